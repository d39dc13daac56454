"""The write-ahead log's file format: what is appended comes back, torn tails are cut, segments go."""

from __future__ import annotations

import os

import pytest

from services.ingest import wal as wal_module
from services.ingest.wal import WriteAheadLog, encode, encode_parts


def frames(first: int, n: int, account: str = "acct", size: int = 10) -> bytes:
    return b"".join(encode(seq, 1000.0 + seq, account, bytes([seq % 256]) * size) for seq in range(first, first + n))


def test_records_appended_in_pieces_read_back_the_same(tmp_path):
    log = WriteAheadLog(tmp_path)
    log.append([piece for seq in (1, 2) for piece in encode_parts(seq, 7.0, "a", b"payload %d" % seq)])
    log.close()
    assert [(r.seq, r.payload) for r in WriteAheadLog(tmp_path).replay()] == [(1, b"payload 1"), (2, b"payload 2")]
    assert encode(3, 7.0, "a", b"p") == b"".join(encode_parts(3, 7.0, "a", b"p"))


def test_appended_records_come_back_in_order_after_reopening(tmp_path):
    log = WriteAheadLog(tmp_path)
    assert log.next_seq == 1
    log.append(frames(1, 3))
    log.append(frames(4, 2, account="другой"))
    log.close()
    again = WriteAheadLog(tmp_path)
    records = list(again.replay())
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[3].account == "другой" and records[3].received == 1004.0
    assert records[0].payload == b"\x01" * 10
    assert again.next_seq == 6
    assert again.wal_id == log.wal_id != 0


def test_checkpoint_hides_applied_records_from_replay(tmp_path):
    log = WriteAheadLog(tmp_path)
    log.append(frames(1, 5))
    log.checkpoint(3)
    log.close()
    again = WriteAheadLog(tmp_path)
    assert [r.seq for r in again.replay()] == [4, 5]
    assert again.next_seq == 6


def test_a_torn_last_record_is_cut_off_and_appending_goes_on_after_it(tmp_path):
    log = WriteAheadLog(tmp_path)
    log.append(frames(1, 2))
    log.close()
    segment = log.segments[-1]
    whole = segment.stat().st_size
    with open(segment, "ab") as f:  # a crash in the middle of writing record 3
        f.write(frames(3, 1)[:-4])
    again = WriteAheadLog(tmp_path)
    assert segment.stat().st_size == whole
    assert [r.seq for r in again.replay()] == [1, 2]
    assert again.next_seq == 3
    again.append(frames(3, 1))
    again.close()
    assert [r.seq for r in WriteAheadLog(tmp_path).replay()] == [1, 2, 3]


def test_a_flipped_bit_ends_the_replay_of_that_record(tmp_path):
    log = WriteAheadLog(tmp_path)
    log.append(frames(1, 3))
    log.close()
    segment = log.segments[-1]
    data = bytearray(segment.read_bytes())
    data[-3] ^= 0x40  # inside record 3's payload: its CRC no longer matches
    segment.write_bytes(bytes(data))
    assert [r.seq for r in WriteAheadLog(tmp_path).replay()] == [1, 2]


def test_segments_rotate_and_go_once_checkpointed(tmp_path):
    log = WriteAheadLog(tmp_path, segment_bytes=200)
    for first in range(1, 31, 3):
        log.append(frames(first, 3, size=40))
    assert len(log.segments) > 3
    log.checkpoint(15)
    firsts = [int(p.name[4:-4], 16) for p in log.segments]
    assert firsts[0] <= 16  # the segment holding record 16 stays
    assert len(firsts) == 1 or firsts[1] > 16
    log.checkpoint(30)
    assert len(log.segments) == 1  # the open segment always stays
    log.close()
    assert list(WriteAheadLog(tmp_path).replay()) == []


def test_a_failed_append_leaves_no_torn_record_behind(tmp_path, monkeypatch):
    log = WriteAheadLog(tmp_path)
    log.append(frames(1, 1))
    real_writev = os.writev
    calls = {"n": 0}

    def half_then_fail(fd, buffers):  # the disk fills up half way through the records
        calls["n"] += 1
        data = b"".join(buffers)
        if calls["n"] == 1:
            return os.write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wal_module.os, "writev", half_then_fail)
    with pytest.raises(OSError):
        log.append(frames(2, 2))
    monkeypatch.setattr(wal_module.os, "writev", real_writev)
    log.append(frames(2, 1))  # the caller was refused; the next append starts clean
    log.close()
    assert [r.seq for r in WriteAheadLog(tmp_path).replay()] == [1, 2]
