"""The ingest write-ahead log: acknowledged PutMetricData requests, on local disk, until ClickHouse has them.

An INSERT costs ClickHouse 10-15 ms whatever its size, so a client sending one request at a time
would wait that long for every datum if a 200 waited for the INSERT. Instead a request is durable
once its record is in this log and ``fsync``'d (about 0.3 ms here); the rows reach ClickHouse a
moment later in bigger INSERTs (:class:`services.ingest.commit.WalCommitter`), and the log forgets
a record once ClickHouse holds it.

Layout of the directory (one log per ingest process; two processes must not share one)::

    wal-id            the log's 64-bit identity, random, written once; stamped on every row it
                      inserts (raw.wal_id) so a replay can tell which records ClickHouse already has
    checkpoint        highest sequence number known to be in ClickHouse (a hint: replay checks)
    wal-<first seq, 16 hex digits>.log   segments, appended in order, rotated at ``segment_bytes``

A record is framed as::

    u32 length of the rest | u32 CRC-32 of the rest | u64 seq | f64 received (epoch s)
    | u16 account length | account (UTF-8) | payload (a serialized PutMetricDataRequest)

all little-endian. A crash can leave the last record of the last segment torn; it was never
acknowledged (acknowledgement waits for the ``fsync`` after the whole record), so opening the log
cuts it off. A bad record anywhere else is corruption and stops the replay of that segment with an
error in the log, keeping the file for inspection.

This module is the file format and nothing else: synchronous, no asyncio, no ClickHouse. Callers
run :meth:`WriteAheadLog.append` on a thread.
"""

from __future__ import annotations

import logging
import os
import secrets
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)

_FRAME = struct.Struct("<II")  # length of the rest, CRC-32 of the rest
_HEAD = struct.Struct("<QdH")  # seq, received, account length
_SEGMENT_PREFIX, _SEGMENT_SUFFIX = "wal-", ".log"


@dataclass(frozen=True)
class Record:
    """One acknowledged request as the log keeps it."""

    seq: int
    received: float
    account: str
    payload: bytes


def encode(seq: int, received: float, account: str, payload: bytes) -> bytes:
    """The framed bytes of one record."""
    return b"".join(encode_parts(seq, received, account, payload))


def encode_parts(seq: int, received: float, account: str, payload: bytes) -> tuple[bytes, bytes]:
    """One record as (frame and head, payload): written as they are, the payload is never copied."""
    acct = account.encode()
    head = _HEAD.pack(seq, received, len(acct)) + acct
    crc = zlib.crc32(payload, zlib.crc32(head))
    return _FRAME.pack(len(head) + len(payload), crc) + head, payload


def _decode_rest(rest: bytes) -> Record:
    seq, received, n = _HEAD.unpack_from(rest)
    start = _HEAD.size
    return Record(seq, received, rest[start:start + n].decode(), rest[start + n:])


def _segment_name(first_seq: int) -> str:
    return f"{_SEGMENT_PREFIX}{first_seq:016x}{_SEGMENT_SUFFIX}"


def _write_all(fd: int, parts: list[bytes]) -> None:
    """Write every byte of ``parts`` in order (``writev`` in batches, finishing short writes)."""
    limit = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024
    i = 0
    while i < len(parts):
        batch = parts[i:i + limit]
        written = os.writev(fd, batch)
        for part in batch:
            if written >= len(part):
                written -= len(part)
                i += 1
                continue
            parts[i] = part[written:]  # a short write: the rest of this part goes next
            break


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WriteAheadLog:
    """An append-only, segmented, checksummed log of records in one directory.

    Args:
        directory: where the log lives; created if missing.
        segment_bytes: a segment is closed and a new one started past this size.

    Opening reads the identity and checkpoint and cuts a torn tail off the last segment; records
    after the checkpoint are then available from :meth:`replay`, and :attr:`next_seq` continues
    after the last record on disk.
    """

    def __init__(self, directory: str | os.PathLike[str], *, segment_bytes: int = 64 << 20) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._segment_bytes = segment_bytes
        self.wal_id = self._identity()
        self.checkpointed = self._read_checkpoint()
        self._segments = self._list_segments()
        self.next_seq = max(self.checkpointed + 1, 1)
        last = self._scan_tail()
        if last is not None:
            self.next_seq = max(self.next_seq, last + 1)
        self._file: int | None = None
        self._file_size = 0
        self._lock = threading.Lock()  # the segment list: appends run on a thread, checkpoints do not

    # -- opening ---------------------------------------------------------------------------------

    def _identity(self) -> int:
        path = self.directory / "wal-id"
        if path.exists():
            return int(path.read_text().strip(), 16)
        wal_id = secrets.randbits(63) | 1  # never 0: 0 marks rows written without a log
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{wal_id:016x}\n")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.directory)
        return wal_id

    def _read_checkpoint(self) -> int:
        path = self.directory / "checkpoint"
        try:
            return int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return 0

    def _list_segments(self) -> list[tuple[int, Path]]:
        found = []
        for p in self.directory.iterdir():
            name = p.name
            if name.startswith(_SEGMENT_PREFIX) and name.endswith(_SEGMENT_SUFFIX):
                try:
                    found.append((int(name[len(_SEGMENT_PREFIX):-len(_SEGMENT_SUFFIX)], 16), p))
                except ValueError:
                    continue
        return sorted(found)

    def _scan_tail(self) -> int | None:
        """The last good seq on disk; cuts a torn record off the end of the last segment."""
        if not self._segments:
            return None
        last_seq = None
        for i, (_, path) in enumerate(self._segments):
            is_last = i == len(self._segments) - 1
            good_end = 0
            for rec, end in self._read_segment(path, tolerate_tail=is_last):
                last_seq = rec.seq
                good_end = end
            if is_last and good_end < path.stat().st_size:
                LOG.warning("write-ahead log: cutting a torn record (%d bytes, never acknowledged) off %s",
                            path.stat().st_size - good_end, path.name)
                with open(path, "rb+") as f:
                    f.truncate(good_end)
                    os.fsync(f.fileno())
        return last_seq

    @staticmethod
    def _read_segment(path: Path, *, tolerate_tail: bool) -> Iterator[tuple[Record, int]]:
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            if pos + _FRAME.size > len(data):
                break
            length, crc = _FRAME.unpack_from(data, pos)
            rest = data[pos + _FRAME.size:pos + _FRAME.size + length]
            if len(rest) < length or zlib.crc32(rest) != crc:
                break
            pos += _FRAME.size + length
            yield _decode_rest(rest), pos
        else:
            return
        if not tolerate_tail:
            LOG.error("write-ahead log: %s is damaged at byte %d; records after it are not replayed "
                      "(the file is kept)", path.name, pos)

    # -- reading ---------------------------------------------------------------------------------

    def replay(self) -> Iterator[Record]:
        """Every record after the checkpoint, in seq order."""
        for i, (_, path) in enumerate(self._segments):
            for rec, _ in self._read_segment(path, tolerate_tail=i == len(self._segments) - 1):
                if rec.seq > self.checkpointed:
                    yield rec

    # -- writing ---------------------------------------------------------------------------------

    def append(self, frames: bytes | Sequence[bytes]) -> None:
        """Write already-framed records and ``fdatasync``: durable on return.

        ``frames`` is the bytes of :func:`encode`, or pieces of them in order (as
        :func:`encode_parts` gives them), written with one ``writev`` where they fit.
        """
        parts = [frames] if isinstance(frames, bytes | bytearray) else list(frames)
        size = sum(map(len, parts))
        if self._file is None or self._file_size >= self._segment_bytes:
            with self._lock:
                self._rotate(parts[0])
        assert self._file is not None
        try:
            _write_all(self._file, parts)
            os.fdatasync(self._file)
        except OSError:
            # Disk full or failing: take back what part of these records reached the file, so the
            # next append does not follow a torn record (which replay would read as damage).
            try:
                os.ftruncate(self._file, self._file_size)
            except OSError:
                LOG.exception("write-ahead log: could not cut a failed append off %s", self._segments[-1][1])
            raise
        self._file_size += size

    def _rotate(self, frames: bytes) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None
        first = _HEAD.unpack_from(frames, _FRAME.size)[0]
        if self._segments and self._file_size == 0 and self._segments[-1][1].stat().st_size < self._segment_bytes:
            path = self._segments[-1][1]  # reopened after a restart: keep appending to the last segment
        else:
            path = self.directory / _segment_name(first)
            self._segments.append((first, path))
        self._file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file_size = os.fstat(self._file).st_size
        _fsync_dir(self.directory)

    def checkpoint(self, seq: int) -> None:
        """Record that every record up to ``seq`` is in ClickHouse; drop segments wholly before it.

        The checkpoint is a hint for the next start (written without ``fsync``: a stale one only
        makes replay check more records against ClickHouse), so it is cheap to call per INSERT.
        """
        if seq <= self.checkpointed:
            return
        self.checkpointed = seq
        path = self.directory / "checkpoint"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{seq}\n")
        os.replace(tmp, path)
        # A segment can go once the next one starts at or before seq + 1; the open one stays.
        with self._lock:
            while len(self._segments) > 1 and self._segments[1][0] <= seq + 1:
                _, old = self._segments.pop(0)
                old.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the open segment."""
        if self._file is not None:
            os.close(self._file)
            self._file = None

    @property
    def segments(self) -> list[Path]:
        """The segment files, oldest first (for tests and diagnostics)."""
        return [p for _, p in self._segments]
