"""ClusterEngine: a ClickHouse cluster of S shards x R replicas, coordinated by ZooKeeper.

``clickhouse://[user[:password]@]host1[:port],host2[:port],.../[database]?cluster=NAME[&option=value...]``

Every host is an entry point: DDL and reads of no particular account go to the first that
answers (a dead one is skipped and tried again later). The shards and their replicas are learnt
from the entry's ``system.clusters`` at the first write or tenant read. Options, besides
:class:`~stackwatch.store.ServerEngine`'s:

``cluster``                the ``remote_servers`` cluster holding every table (required)
``insert_quorum``          replicas of a shard that must have an insert before it is acknowledged
                           (default: a majority of the shard's replicas; 1 turns the quorum off)
``insert_quorum_timeout``  seconds a quorum insert waits for the other replicas (default 10; the
                           server's own default is ten minutes)
``unknown_wait``           seconds an insert whose outcome is unknown is retried before its caller
                           is told so (default 30; see below)
``ddl_timeout``            seconds an ``ON CLUSTER`` statement waits for every host (default 30)

Reads. With the default quorum (a majority) and R = 2 every acknowledged row is on both
replicas, so any replica answers completely. With R > 2 a read may pick a replica that has not
fetched the newest part yet (replication lag, usually well under a second): reads are eventually
consistent, as CloudWatch's are. The write-ahead log's own "already inserted?" question asks with
``select_sequential_consistency`` (see ``services.ingest.store``).

The layout (created by :class:`~stackwatch.store.Schema`): each table ``db.t`` is a
Replicated*MergeTree ``db.t_local`` on every server, named in ZooKeeper by its shard, and a
``Distributed`` table ``db.t`` in front of the local ones on every server. Reads go through
the Distributed tables, so a service's SELECTs are the same as on one server. Each account's rows
all live on one shard (see :func:`shard_of`): a series, its rollups and its catalog rows are
together, so ``IN`` subqueries and joins are evaluated shard by shard
(``distributed_product_mode = 'local'``) and give what one server would.

A tenant's reads need only its own shard. A read whose parameters name an ``account`` (every
tenant read filters on ``account = %(account)s``) runs on a replica of that account's shard,
which reads its own shard's rows locally (``prefer_localhost_replica``, on by default) and skips
the shards that have no live replica (``skip_unavailable_shards``): they hold none of the
account's rows. So a shard that is down entirely fails the reads of its own accounts only (their
replicas refuse the connection: 503), where a read through any server would fail for everyone
(code 279, every connection to that shard refused).

Writes never go through a Distributed table (it has no sharding key, so ClickHouse refuses a
multi-shard insert into it): :meth:`ClusterEngine.insert` splits the rows by the ``account``
column and writes each shard's rows to one of its replicas' local table, all shards at once,
with ``insert_quorum``. A table without an ``account`` column is a small global one (the alarm
replicas' heartbeats, the migrations applied) whose rows are replaced by newer versions: its rows
go to every shard, once to a replica of each, and the insert is done when one shard has them, so
that it does not hang on a shard that is down; reads of it see the union (``argMax``, ``DISTINCT``),
skipping shards that are down. A shard that fails fails
its own part: the rows of the other shards are written, and :class:`ShardsUnavailable` says which
shards failed. Callers that group rows by shard themselves (:meth:`shard_of`,
:meth:`insert_shard`) can tell exactly whose rows were written.

Exactly once. What the server answers to a quorum insert sorts into three outcomes:

* written: acknowledged on a quorum of the shard's replicas;
* not written: refused before anything was stored (too few live replicas, a previous quorum
  still pending, the keeper session lost, the connection refused): another replica is tried, and
  when none takes the rows the shard's part fails with :class:`~stackwatch.store.StoreUnavailable`.
  18.16 runs one quorum insert per table and shard at a time, and refuses the others with
  "quorum for previous write has not been satisfied yet" (286): such an insert waits for its turn,
  with backoff, for up to ``insert_quorum_timeout`` (the same answer comes from a quorum that a dead
  replica keeps open, hence the bound);
* unknown: ``UNKNOWN_STATUS_OF_INSERT`` (the quorum timed out after the part was stored on one
  replica, where it becomes visible once the quorum is met), or a connection lost after the
  rows were sent. The *identical* block is sent again, to any replica of the shard, every half
  second: a ReplicatedMergeTree drops a block it already holds (by a hash of its content), so the
  retry either writes it or finds it written. Only when that has not succeeded within
  ``unknown_wait`` seconds is the caller told, with a 503 that says the rows may still appear.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from stackwatch.store._engine import BaseEngine, Row, check_columns
from stackwatch.store._server import ServerEngine
from stackwatch.store._server import _parse as parse_server_url
from stackwatch.store._sql import identifier
from stackwatch.store.errors import StoreConfigError, StoreError, StoreQueryError, StoreUnavailable

LOG = logging.getLogger(__name__)

_CLUSTER_OPTIONS: dict[str, type[int] | type[float] | type[str]] = {
    "cluster": str, "insert_quorum": int, "insert_quorum_timeout": float, "unknown_wait": float,
    "ddl_timeout": float}
#: Settings of every connection: an ``IN``/``JOIN`` subquery on a Distributed table inside a
#: distributed query reads each shard's local table (right, since an account lives on one shard;
#: the default refuses such queries).
_READ_SETTINGS = {"distributed_product_mode": "local"}
#: How often an insert of unknown outcome is sent again.
UNKNOWN_RETRY_EVERY = 0.5
#: How long a host that refused a connection is skipped by reads and DDL.
_HOST_PENALTY = 5.0


class ShardsUnavailable(StoreUnavailable):
    """Some shards did not take their rows of an insert; the others did.

    Attributes:
        failed: shard index (from 0) -> the error of that shard.
        written: the indexes of the shards whose rows were written.
    """

    def __init__(self, failed: Mapping[int, StoreError], written: Sequence[int]) -> None:
        detail = "; ".join(e.message if e.message.startswith(f"shard {i + 1}:") else f"shard {i + 1}: {e.message}"
                           for i, e in sorted(failed.items()))
        super().__init__(f"{len(failed)} of {len(failed) + len(written)} shards did not take the insert: {detail}",
                         db_code=next(iter(failed.values())).db_code)
        self.failed = dict(failed)
        self.written = list(written)


def shard_of(account: str, shards: int) -> int:
    """The shard (from 0) that holds ``account``'s rows: a 64-bit BLAKE2b of the account, modulo ``shards``."""
    digest = hashlib.blake2b(account.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % shards


def _parse(url: str) -> tuple[list[str], dict[str, Any], str]:
    """-> (one ServerEngine URL per host, cluster options, URL to show)."""
    parts = urlsplit(url)
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    hosts = [h.strip() for h in hostlist.split(",") if h.strip()]
    if parts.scheme != "clickhouse" or not hosts:
        raise StoreConfigError(f"not a clickhouse://host[:port][,host[:port]...][/database] URL: {url!r}")
    options: dict[str, Any] = {}
    passed: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        kind = _CLUSTER_OPTIONS.get(key)
        if kind is None:
            passed.append((key, value))
            continue
        try:
            options[key] = kind(value)
        except ValueError:
            raise StoreConfigError(f"bad value for {key!r} in store URL: {value!r}") from None
        if kind is not str and options[key] <= 0:
            raise StoreConfigError(f"{key} must be positive")
    if not options.get("cluster"):
        raise StoreConfigError("a cluster store URL needs cluster=NAME")
    identifier(options["cluster"])
    query = "&".join(f"{k}={quote(v)}" for k, v in passed)
    auth = f"{userinfo}@" if userinfo else ""
    urls = [f"clickhouse://{auth}{h}{parts.path}" + (f"?{query}" if query else "") for h in hosts]
    shown = f"clickhouse://{','.join(hosts)}{parts.path or '/'}?cluster={options['cluster']}"
    return urls, options, shown


class _Host:
    """One server: its engine and when it last refused us."""

    def __init__(self, engine: ServerEngine) -> None:
        self.engine = engine
        self.down_until = 0.0

    def refused(self, e: StoreError) -> None:
        """Skip this server for a while; say so once per outage, not once per call."""
        now = time.monotonic()
        if self.down_until <= now - _HOST_PENALTY:
            LOG.warning("store: %s is unreachable (%s); using the other servers", self.engine.url,
                        e.message.split("(")[0].strip()[:120])
        self.down_until = now + _HOST_PENALTY


def _refused(e: StoreError) -> bool:
    """Whether the error shows that nothing reached the server (so nothing can have been written)."""
    text = e.message.lower()
    return "connection refused" in text or "errno 111" in text or "name or service not known" in text


@dataclass
class _Pass:
    """What one offer of a block to each replica of a shard came to, when none took it."""

    last: StoreError = field(default_factory=lambda: StoreUnavailable("the shard has no replicas"))
    unknown: bool = False  # some replica may have stored it
    busy: bool = False  # some replica was busy with another quorum insert


#: Codes that say this insert stored nothing (another replica, or a later try, may take it).
_NOT_WRITTEN = frozenset({225, 242, 285, 286, 999})


class _ShardReads(BaseEngine):
    """Statements run on one shard's live replicas, with :class:`BaseEngine`'s read retries around them."""

    def __init__(self, cluster: ClusterEngine, shard: int) -> None:
        super().__init__(f"{cluster.url} shard {shard + 1}", read_attempts=cluster._read_attempts,
                         read_deadline=cluster._read_deadline)
        self._cluster = cluster
        self._shard = shard

    def _query(self, sql: str) -> list[Row]:
        rows: list[Row] = self._cluster._on_replica(self._shard, lambda e: e._query(sql))
        return rows


class ClusterEngine(BaseEngine):
    """A ClickHouse cluster (see the module docstring). Opening does no I/O."""

    def __init__(self, url: str, *, read_attempts: int = 4, read_deadline: float = 10.0) -> None:
        urls, options, shown = _parse(url)
        self.cluster: str = options["cluster"]
        self._quorum: int | None = options.get("insert_quorum")
        self._quorum_timeout = float(options.get("insert_quorum_timeout", 10.0))
        self._unknown_wait = float(options.get("unknown_wait", 30.0))
        self._ddl_timeout = float(options.get("ddl_timeout", 30.0))
        self._urls = urls
        _, engine_options, _ = parse_server_url(urls[0])  # checks the options every host shares
        super().__init__(shown, read_attempts=engine_options.get("read_attempts", read_attempts),
                         read_deadline=engine_options.get("read_deadline", read_deadline))
        self._entries = [_Host(ServerEngine(u, settings=_READ_SETTINGS)) for u in urls]
        self._lock = threading.Lock()
        self._shards: list[list[_Host]] | None = None
        self._shard_reads: list[_ShardReads] = []
        self._rotation = itertools.count()
        self._pool: ThreadPoolExecutor | None = None
        self._broadcasts: ThreadPoolExecutor | None = None

    def quorum(self, replicas: int) -> int:
        """The insert quorum for a shard of ``replicas`` replicas (0: none)."""
        q = self._quorum if self._quorum is not None else replicas // 2 + 1
        return min(q, replicas) if q > 1 else 0

    # --- topology -----------------------------------------------------------------------------
    def shards(self) -> list[list[ServerEngine]]:
        """Each shard's replicas (learnt from ``system.clusters`` once), in the cluster's order."""
        return [[h.engine for h in hosts] for hosts in self._topology()]

    @property
    def quorum_writes(self) -> bool:
        """Whether every shard's inserts wait for a quorum (so ``select_sequential_consistency`` may be read with)."""
        return all(self.quorum(len(hosts)) > 1 for hosts in self._topology())

    @property
    def shard_count(self) -> int:
        """How many shards the cluster has."""
        return len(self._topology())

    def shard_of(self, account: str) -> int:
        """The shard (from 0) holding ``account``'s rows."""
        return shard_of(account, self.shard_count)

    def _topology(self) -> list[list[_Host]]:
        with self._lock:
            if self._shards is not None:
                return self._shards
        rows = self._query("SELECT shard_num, host_name, port FROM system.clusters"
                           f" WHERE cluster = '{self.cluster}' ORDER BY shard_num, replica_num")
        if not rows:
            raise StoreConfigError(f"the servers know no cluster named {self.cluster!r} (see remote_servers)")
        grouped: dict[int, list[str]] = {}
        for shard, host, port in rows:
            grouped.setdefault(int(shard), []).append(f"{host}:{int(port)}")
        base = urlsplit(self._urls[0])
        userinfo = base.netloc.rpartition("@")[0]
        suffix = base.path + (f"?{base.query}" if base.query else "")
        shards = []
        for _, hosts in sorted(grouped.items()):
            # a shard's own servers also answer the reads of its accounts (see the module docstring)
            settings = {**_READ_SETTINGS, "skip_unavailable_shards": 1, "insert_quorum": self.quorum(len(hosts)),
                        "insert_quorum_timeout": int(self._quorum_timeout * 1000)}
            shards.append([_Host(ServerEngine(f"clickhouse://{userinfo + '@' if userinfo else ''}{h}{suffix}",
                                              settings=settings)) for h in hosts])
        with self._lock:
            if self._shards is None:
                self._shards = shards
                self._shard_reads = [_ShardReads(self, i) for i in range(len(shards))]
                self._pool = ThreadPoolExecutor(max_workers=max(2, len(shards)), thread_name_prefix="shard")
                self._broadcasts = ThreadPoolExecutor(max_workers=2 * len(shards), thread_name_prefix="broadcast")
                LOG.info("store: cluster %s has %d shards of %s replicas; insert quorum %s", self.cluster,
                         len(shards), "/".join(str(len(s)) for s in shards),
                         "/".join(str(self.quorum(len(s))) for s in shards))
            else:
                for hosts in shards:
                    for h in hosts:
                        h.engine.close()
            return self._shards

    def _candidates(self) -> list[_Host]:
        """Entry hosts (each call starts at the next one), then the other servers; recent refusers last."""
        start = next(self._rotation) % len(self._entries)
        hosts = self._entries[start:] + self._entries[:start]
        with self._lock:
            if self._shards is not None:
                known = {h.engine.url for h in hosts}
                hosts += [h for s in self._shards for h in s if h.engine.url not in known]
        now = time.monotonic()
        return sorted(hosts, key=lambda h: h.down_until > now)

    # --- reads and DDL ------------------------------------------------------------------------
    def execute(self, sql: str, params: Mapping[str, Any] | None = None, *,
                idempotent: bool = True) -> list[Row]:
        """Run one statement (see :meth:`~stackwatch.store.Engine.execute`).

        One whose ``params`` have an ``account`` runs on a live replica of that account's shard
        (see the module docstring); the others on any server.
        """
        account = params.get("account") if params else None
        if isinstance(account, str) and len(self._topology()) > 1:
            return self._shard_reads[self.shard_of(account)].execute(sql, params, idempotent=idempotent)
        return super().execute(sql, params, idempotent=idempotent)

    def _on_any(self, call: Any) -> Any:
        last: StoreError | None = None
        for host in self._candidates():
            try:
                return call(host.engine)
            except StoreUnavailable as e:
                last = e
                if not _refused(e) and e.db_code not in (None, 209, 210):
                    raise  # the server answered: the cluster, not this host, is the problem
                host.refused(e)
        assert last is not None
        raise last

    def _query(self, sql: str) -> list[Row]:
        rows: list[Row] = self._on_any(lambda e: e._query(sql))
        return rows

    def ddl(self, sql: str) -> list[Row]:
        """Run an ``ON CLUSTER`` statement; hosts that are down run it when they return.

        The wait for the other hosts is bounded by ``ddl_timeout`` (a session setting on 18.16).
        When it passes (code 159), the live hosts have run the statement and the others will when
        they come back: that is logged and not an error, so the statement must be idempotent.
        """
        statements = [f"SET distributed_ddl_task_timeout = {int(self._ddl_timeout)}", sql]
        try:
            rows: list[Row] = self._on_any(lambda e: e.session(statements))
            return rows
        except StoreUnavailable as e:
            if e.db_code != 159:
                raise
            LOG.warning("store: %s: not every host ran it within %.0f s; the others will when they return: %s",
                        sql.split("(")[0].strip()[:120], self._ddl_timeout, e.message)
            return []

    def read_shard(self, shard: int, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """A read on a live replica of ``shard`` (from 0), with the read retries: e.g. of its ``_local`` tables."""
        self._topology()
        return self._shard_reads[shard].execute(sql, params)

    def on_each_shard(self, sql: str) -> list[list[Row]]:
        """Run a read once per shard, on one live replica of each; each shard's rows, in shard order.

        For what only a shard's own servers know (``system.parts`` of the local tables). A shard
        with no live replica raises :class:`~stackwatch.store.StoreUnavailable`.
        """
        return [self.read_shard(shard, sql) for shard in range(self.shard_count)]

    def on_each_server(self, sql: str) -> list[list[Row] | None]:
        """Run a read once on every server of the cluster, one attempt each; None for a server that is down.

        For what each server knows of itself (``system.tables``), e.g. whether an ``ON CLUSTER``
        statement is still needed.
        """
        out: list[list[Row] | None] = []
        for host in (h for hosts in self._topology() for h in hosts):
            try:
                out.append(host.engine._query(sql))
            except StoreUnavailable:
                out.append(None)
        return out

    def on_shard(self, shard: int, sql: str) -> list[Row]:
        """Run a statement that must not run twice (``INSERT ... SELECT`` into a local table) on ``shard``.

        One attempt on one live replica, with the shard's insert quorum.
        """
        rows: list[Row] = self._on_replica(shard, lambda e: e.execute(sql, idempotent=False))
        return rows

    def _on_replica(self, shard: int, call: Any) -> Any:
        last: StoreError | None = None
        now = time.monotonic()
        hosts = self._topology()[shard]
        start = next(self._rotation) % len(hosts)  # spread over the replicas; those that refused us lately last
        for host in sorted(hosts[start:] + hosts[:start], key=lambda h: h.down_until > now):
            try:
                return call(host.engine)
            except StoreUnavailable as e:
                if not _refused(e):
                    raise
                last = e
                host.refused(e)
        assert last is not None
        raise last

    # --- writes -------------------------------------------------------------------------------
    def _insert_columns(self, table: str, columns: list[str], rows: Mapping[str, Sequence[Any]], n: int) -> None:
        local = f"{table}_local"
        topology = self._topology()
        if "account" not in rows:
            self._broadcast(local, columns, rows)
            return
        if len(topology) > 1:
            count = len(topology)
            by_shard: dict[int, list[int]] = {}
            memo: dict[str, int] = {}
            for i, acct in enumerate(rows["account"]):
                s = memo.get(acct)
                if s is None:
                    s = memo[acct] = shard_of(acct, count)
                by_shard.setdefault(s, []).append(i)
            if len(by_shard) == 1:
                ((shard, _),) = by_shard.items()
                self.insert_shard(shard, local, columns, rows)
                return
            parts: dict[int, Mapping[str, Sequence[Any]]] = {
                s: {c: [rows[c][i] for i in idx] for c in columns} for s, idx in by_shard.items()}
        else:
            parts = {0: {c: rows[c] for c in columns}}
        if len(parts) == 1:
            ((shard, block),) = parts.items()
            self.insert_shard(shard, local, columns, block)
            return
        assert self._pool is not None
        futures = {s: self._pool.submit(self.insert_shard, s, local, columns, block) for s, block in parts.items()}
        failed: dict[int, StoreError] = {}
        for s, f in futures.items():
            try:
                f.result()
            except StoreError as e:
                failed[s] = e
        if failed:
            if any(not e.retryable for e in failed.values()):
                raise next(e for e in failed.values() if not e.retryable)
            raise ShardsUnavailable(failed, [s for s in parts if s not in failed])

    def _broadcast(self, local_table: str, columns: Sequence[str], rows: Mapping[str, Sequence[Any]]) -> None:
        """Write a global table's rows to every shard; done when one shard has them (see the module docstring)."""
        assert self._broadcasts is not None
        futures = [self._broadcasts.submit(self._insert_once, shard, local_table, columns, rows)
                   for shard in range(len(self._topology()))]
        failures: list[StoreError] = []
        for future in as_completed(futures):
            try:
                future.result()
                return  # the other shards' writes finish (or fail) on their own
            except StoreQueryError:
                raise
            except StoreError as e:
                failures.append(e)
        raise StoreUnavailable(f"no shard took the rows of {local_table}: {failures[0].message}",
                               db_code=failures[0].db_code)

    def _insert_once(self, shard: int, local_table: str, columns: Sequence[str],
                     rows: Mapping[str, Sequence[Any]]) -> None:
        """One attempt on each replica of ``shard`` in turn, until one takes the rows."""
        failed = self._try_replicas(self._topology()[shard], local_table, columns, rows)
        if failed is not None:
            raise failed.last

    def _try_replicas(self, hosts: Sequence[_Host], local_table: str, columns: Sequence[str],
                      rows: Mapping[str, Sequence[Any]]) -> _Pass | None:
        """Offer the block to each replica once (recent refusers last); None when one took it."""
        n = check_columns(local_table, columns, rows)
        outcome = _Pass()
        now = time.monotonic()
        for host in sorted(hosts, key=lambda h: h.down_until > now):
            try:
                host.engine._insert_columns(local_table, list(columns), rows, n)
                return None
            except StoreQueryError:
                raise
            except StoreError as e:
                outcome.last = e
                if _refused(e):
                    host.refused(e)
                elif e.db_code not in _NOT_WRITTEN:
                    outcome.unknown = True  # 319, or the connection died with the rows sent
                elif e.db_code == 286:
                    outcome.busy = True  # another quorum insert is under way on the shard (or stuck)
        return outcome

    def insert_shard(self, shard: int, local_table: str, columns: Sequence[str],
                     rows: Mapping[str, Sequence[Any]]) -> None:
        """Insert one block into ``shard``'s local table, exactly once (see the module docstring).

        Raises:
            StoreUnavailable: no replica took the rows (nothing written), or the outcome stayed
                unknown for ``unknown_wait`` seconds (the rows may still appear).
            StoreQueryError: the insert is wrong.
        """
        n = check_columns(local_table, columns, rows)
        if not n:
            return
        hosts = self._topology()[shard]
        start = next(self._rotation) % len(hosts)
        order = hosts[start:] + hosts[:start]
        deadline: float | None = None
        busy_until = time.monotonic() + self._quorum_timeout
        pause = 0.01
        while True:
            failed = self._try_replicas(order, local_table, columns, rows)
            if failed is None:
                if deadline is not None:
                    LOG.info("store: shard %d: an insert of unknown outcome is settled (%d rows)", shard + 1, n)
                return
            last = failed.last
            if deadline is None and not failed.unknown:
                if failed.busy and time.monotonic() < busy_until:
                    time.sleep(pause * (0.5 + random.random()))  # nothing written: wait for our turn
                    pause = min(pause * 2, 0.25)
                    continue
                raise StoreUnavailable(f"shard {shard + 1}: no replica took the insert: {last.message}",
                                       db_code=last.db_code)
            if deadline is None:
                deadline = time.monotonic() + self._unknown_wait
                LOG.warning("store: shard %d: insert of %d rows has an unknown outcome (%s); sending the same "
                            "block again for up to %.0f s", shard + 1, n, last.message[:200], self._unknown_wait)
            if time.monotonic() >= deadline:
                raise StoreUnavailable(
                    f"shard {shard + 1}: the outcome of an insert stayed unknown for {self._unknown_wait:.0f} s"
                    f" (the rows may still appear once the shard's replicas return): {last.message}",
                    db_code=319)
            time.sleep(UNKNOWN_RETRY_EVERY)

    def close(self) -> None:
        """Disconnect from every server."""
        for host in self._entries:
            host.engine.close()
        with self._lock:
            shards, self._shards = self._shards or [], None
            pool, self._pool = self._pool, None
            broadcasts, self._broadcasts = self._broadcasts, None
        for hosts in shards:
            for h in hosts:
                h.engine.close()
        for executor in (pool, broadcasts):
            if executor is not None:
                executor.shutdown(wait=False)

