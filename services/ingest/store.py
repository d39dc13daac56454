"""The ingest service's tables and every SQL statement it runs.

ingest owns one database (``stackwatch_metrics`` by default) with these tables:

``raw``       one row per datum, full precision: MergeTree partitioned by day, sorted by
              (account, series, ts), so one metric's range is one contiguous read. A datum is
              kept as its statistic set (count, sum, min, max) plus its values and counts, which
              percentiles need; a one-value datum (the usual ``Value``) keeps its value once, in
              ``values``, with NaN in sum, min and max and no counts (:data:`RAW_SUM`): the
              other copies were three quarters of the table's bytes. ``ts`` is the second the
              datum falls in (floor), ``ts_ms`` the milliseconds within it. The metric's identity
              (namespace, name, dimensions) is not repeated per row: ``series`` names it, and the
              catalog maps it back. Every read goes by series, and leaving the strings out halves
              what each insert costs the server and the client library.
``catalog``   one identity per metric for ListMetrics: ReplacingMergeTree(last_seen) sorted by
              (account, namespace, metric, series). ``last_seen`` is the wall-clock time the data
              was *received* (the ``now`` given to :meth:`MetricStore.insert`), not the datum's
              timestamp: ListMetrics shows metrics that received data in the last two weeks (or
              three hours for RecentlyActive=PT3H), whatever timestamps that data carried.

``roll_5m``   the 5-minute and 1-hour retention tiers: AggregatingMergeTree, one row per (account,
``roll_1h``   series, unit, tier bucket) holding sum/min/max states of the statistic set and a
              ``sumMap`` state of a log-bucketed histogram (each value's key is its float's sign,
              exponent and top 7 mantissa bits: every engine computes it identically, with integer
              operations only). A materialized view on ``raw`` feeds each as rows are inserted, so
              late data is folded into its window by the same INSERT, and nothing runs per request
              beyond the views. A query reads the coarsest tier whose buckets tile its own
              (``services.ingest.domain.read_tier``): count, minimum and maximum are exactly raw's,
              sums raw's up to the order of float additions, percentiles within
              :data:`PERCENTILE_ERROR` (2**-8, relative; p0 and p100 exact). ``roll_5m`` is
              partitioned by day, ``roll_1h`` by month; :meth:`MetricStore.expire` drops whole
              partitions past their tier's retention (18.16 has no TTL).

Writes. :meth:`MetricStore.insert` is the group-commit unit: the caller coalesces many requests
into one call, which becomes one INSERT into ``catalog`` followed by one INSERT into ``raw``, both
built column by column on the store's thread. The catalog goes first: if the raw insert then
fails, the caller is told and retries, and the only trace is a catalog row for a metric whose data
arrives with the retry; the other order could leave data that ListMetrics never shows.

The same metrics arrive in request after request, and rewriting their catalog rows every time
would double the work of every insert. So the store remembers when it last wrote each series'
catalog row and writes it again only after ``catalog_refresh`` seconds (15 minutes by default):
``last_seen`` is then at most that stale, well inside the "last two weeks" of ListMetrics and
the "approximately three hours" of RecentlyActive. The memory is per process and bounded; a
restarted or second ingest process writes each series once more, which is harmless.

Reads. Every query filters on the account first (it leads every sort key), and every value,
including each tenant-chosen namespace, metric name and dimension, is a quoted parameter. The
catalog is read with ``GROUP BY ... HAVING max(last_seen) >= since``, so duplicates that
ReplacingMergeTree has not merged yet never show, on any engine version. A period's histogram is
summed on the server with ``sumMap(values, counts)`` (distinct values, sorted, with summed
counts; a value whose counts sum to zero is left out), one row per period: a day of minutes with
percentiles is one query of 1,440 rows, not a statistics query plus a histogram query of one row
per distinct value.
GetMetricData reads many series at once (:meth:`MetricStore.series_buckets`): ``series IN (...)``
grouped by series and bucket, one query for all the call's MetricStat queries that share a range,
period and unit (up to 500 of them), never one query per metric.

The SQL is the subset both ClickHouse 18.16 and current releases run; only the DDL varies, through
the engine's :class:`~stackwatch.store.Dialect` (LowCardinality and codecs on modern engines).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
import threading
from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from services.ingest.domain._insights import MAX_METRICS as MAX_INSIGHTS_METRICS
from services.ingest.domain._insights import (
    OTHER,
    Condition,
    Conjunction,
    Disjunction,
    Function,
    InsightsQuery,
    Negation,
)
from services.ingest.domain._search import MAX_RESULTS as MAX_SEARCH_RESULTS
from services.ingest.domain._search import And as SearchAnd
from services.ingest.domain._search import Node as SearchNode
from services.ingest.domain._search import Not as SearchNot
from services.ingest.domain._search import SearchFilter, full_token, matches
from services.ingest.domain._search import Term as SearchTerm
from services.ingest.domain._tiers import RetentionSchedule, expired
from stackwatch.domain.metrics import Datum, DatumBatch, series_id
from stackwatch.store import (
    AsyncEngine,
    Dialect,
    Schema,
    ShardsUnavailable,
    Step,
    StoreUnavailable,
    identifier,
    render,
    shard_of,
)

LOG = logging.getLogger(__name__)

Row = tuple[str, DatumBatch | Datum] | tuple[str, DatumBatch, int]
StatRow = tuple[int, str, float, float, float, float]
Histograms = dict[tuple[int, str], list[tuple[float, float]]]
MetricRow = tuple[str, str, list[tuple[str, str]], int]
SeriesBucket = tuple[Any, ...]  # (bucket, count, sum, min, max[, (values, counts)])

RAW_COLUMNS = ("account", "series", "unit", "resolution", "ts", "ts_ms", "count", "sum", "min", "max", "values",
               "counts", "wal_id", "wal_seq")
#: Columns added after the first release, with their types: added to an older table at start.
_LATER_RAW_COLUMNS = (("wal_id", "UInt64"), ("wal_seq", "UInt64"))
CATALOG_COLUMNS = ("account", "namespace", "metric", "series", "dim_names", "dim_values", "last_seen")


def raw_ddl(db: str, d: Dialect) -> str:
    """``CREATE TABLE`` of the raw datapoints.

    The codecs (engines that have them) are the best of those measured per column on
    ``bench/retention_bench.py``'s data (see bench/README.md): ZSTD alone for the floats (on values
    with a few decimal digits, as metrics are, Gorilla's XOR leaves the mantissa's noise and does
    worse than ZSTD on the plain bytes), Delta before it for the values (a one-value row's
    offsets grow by one); DoubleDelta for the regular timestamps and, with LZ4, for the
    write-ahead log id and seqs, which are constant or grow by one along a series (ZSTD alone
    on those runs of 8-byte integers came out ten times bigger than LZ4).
    """
    lc = d.low_cardinality
    return f"""
CREATE TABLE IF NOT EXISTS {db}.raw (
    account {lc('String')},
    series UInt64{d.codec('ZSTD')},
    unit {lc('String')},
    resolution UInt8,
    ts DateTime('UTC'){d.codec('DoubleDelta', 'ZSTD')},
    ts_ms UInt16,
    count Float64{d.codec('ZSTD')},
    sum Float64{d.codec('ZSTD')},
    min Float64{d.codec('ZSTD')},
    max Float64{d.codec('ZSTD')},
    values Array(Float64){d.codec('Delta', 'ZSTD')},
    counts Array(Float64){d.codec('ZSTD')},
    wal_id UInt64{d.codec('DoubleDelta', 'LZ4')},
    wal_seq UInt64{d.codec('DoubleDelta', 'LZ4')}
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (account, series, ts)"""


#: A raw row's sum, minimum, maximum and counts as SQL. A one-value datum (a single value counted
#: once, the usual PutMetricData ``Value``) is stored with its value once, in ``values``: NaN in
#: sum, min and max (never a datum's value: the API refuses NaN) and no counts; see
#: :func:`build_columns`. Rows written before that, and every other datum, hold their own. Each
#: expression reads only its own column and the arrays, so that a view can alias it by the
#: column's name (ClickHouse 18.16 resolves an alias inside the others' expressions).
RAW_SUM = "if(isNaN(sum), values[1], sum)"
RAW_MIN = "if(isNaN(min), values[1], min)"
RAW_MAX = "if(isNaN(max), values[1], max)"
RAW_COUNTS = "if(empty(counts), arrayMap(x -> 1., values), counts)"


#: The rollup tiers: period seconds -> (table, materialized view feeding it from raw, partition expression).
ROLLUPS = {300: ("roll_5m", "raw_to_5m_v2", "toYYYYMMDD(ts)", "toStartOfFiveMinute(ts)"),
           3600: ("roll_1h", "raw_to_1h_v2", "toYYYYMM(ts)", "toStartOfHour(ts)")}
#: Views of earlier releases, replaced at start: they read raw's min, max and values as stored,
#: which one-value rows no longer hold (see :data:`RAW_SUM`).
_OLD_VIEWS = ("raw_to_5m", "raw_to_1h")
#: Float64 mantissa bits a rollup's histogram key drops: it keeps the sign, the exponent and the top
#: 52 - 45 = 7 mantissa bits, so each key covers values within a factor 1 + 2**-7 of each other.
HISTOGRAM_SHIFT = 45
#: The relative error bound of a percentile answered from a rollup: a key's representative is the
#: midpoint of its range, at most half a range (2**-8 of the value) from any value in it.
PERCENTILE_ERROR = 2.0**-8
#: A value's histogram key (as SQL): its float's bits without the low mantissa bits, negated (and
#: shifted by one) for negative values, so that keys sort as the values do. ``+ 0.`` makes -0.0 a
#: plain zero. The bits are read through ``reinterpretAsString``: 18.16 cannot reinterpret a float
#: as an integer directly. Pure integer arithmetic on the float's bits: every engine agrees.
_BITS = "reinterpretAsUInt64(reinterpretAsString({} + 0.))"
_KEY = (f"if(v < 0, -1 - toInt64(bitShiftRight({_BITS.format('abs(v)')}, {HISTOGRAM_SHIFT})),"
        f" toInt64(bitShiftRight({_BITS.format('v')}, {HISTOGRAM_SHIFT})))")
#: A key's representative value (as SQL, of key ``k``): the midpoint of the values it covers, with
#: the sign; 0 for the key of zero. Exact IEEE arithmetic (a sum and a halving), as in Python.
_MAGNITUDE = "toUInt64(if(k < 0, -1 - k, k))"
_REPRESENTATIVE = (
    f"if(k = 0, 0., if(k < 0, -1, 1) * (reinterpretAsFloat64(reinterpretAsString(bitShiftLeft({_MAGNITUDE}, {{s}})))"
    f" + reinterpretAsFloat64(reinterpretAsString(bitShiftLeft({_MAGNITUDE} + 1, {{s}})))) / 2)"
).format(s=HISTOGRAM_SHIFT)


def rollup_ddl(db: str, tier: int, d: Dialect) -> str:
    """``CREATE TABLE`` of the rollup of ``tier`` seconds (300 or 3600)."""
    table, _, partition, _ = ROLLUPS[tier]
    lc = d.low_cardinality
    return f"""
CREATE TABLE IF NOT EXISTS {db}.{table} (
    account {lc('String')},
    series UInt64,
    unit {lc('String')},
    ts DateTime('UTC'){d.codec('DoubleDelta', 'ZSTD')},
    count AggregateFunction(sum, Float64){d.codec('ZSTD')},
    sum AggregateFunction(sum, Float64){d.codec('ZSTD')},
    min AggregateFunction(min, Float64){d.codec('ZSTD')},
    max AggregateFunction(max, Float64){d.codec('ZSTD')},
    hist AggregateFunction(sumMap, Array(Int64), Array(Float64)){d.codec('ZSTD')}
) ENGINE = AggregatingMergeTree
PARTITION BY {partition}
ORDER BY (account, series, ts, unit)"""


def rollup_select(db: str, tier: int, source: str | None = None) -> str:
    """The ``SELECT`` that rolls raw rows up into ``tier``'s rows (the view's query, and the backfill's).

    ``source`` is the table read (default ``db.raw``; a cluster's view reads ``db.raw_local``).
    """
    start = ROLLUPS[tier][3]
    return (f"SELECT account, series, unit, {start} AS ts, sumState(count) AS count, sumState({RAW_SUM}) AS sum,"
            f" minState({RAW_MIN}) AS min, maxState({RAW_MAX}) AS max,"
            f" sumMapState(arrayMap(v -> {_KEY}, values), {RAW_COUNTS}) AS hist"
            f" FROM {source or db + '.raw'} GROUP BY account, series, unit, ts")


def catalog_ddl(db: str, d: Dialect) -> str:
    """``CREATE TABLE`` of the metric catalog."""
    lc = d.low_cardinality
    return f"""
CREATE TABLE IF NOT EXISTS {db}.catalog (
    account {lc('String')},
    namespace {lc('String')},
    metric {lc('String')},
    series UInt64,
    dim_names Array({lc('String')}),
    dim_values Array(String),
    last_seen DateTime('UTC')
) ENGINE = ReplacingMergeTree(last_seen)
ORDER BY (account, namespace, metric, series)"""


def split_timestamp(t: float) -> tuple[int, int]:
    """Epoch seconds -> (the second it falls in, milliseconds within it, at most 999)."""
    s = math.floor(t)
    ms = round((t - s) * 1000)
    return s, (ms if ms < 1000 else 999)


_NONE: tuple[float, ...] = ()
_NAN = math.nan


def build_columns(batch: Sequence[Row], wal_id: int = 0,
                  commit_id: int = 0) -> tuple[dict[str, list[Any]], dict[tuple[Any, ...], int]]:
    """The raw columns for one insert, and the series they write to.

    Each ``(account, DatumBatch)`` extends every raw column at once; each distinct (account,
    namespace, metric, dimensions) is hashed once into its series id, and the second result
    maps each to its id (the catalog rows, see :func:`catalog_columns`, are made only for the
    series whose catalog row is due). A :class:`Datum` in place of a batch counts as a batch of
    one. An item may carry a third element, the seq of the write-ahead log record it came from,
    stamped on its rows with ``wal_id``; rows written without a log get ``wal_id`` 0 and
    ``commit_id`` as their seq. A one-value datum (count 1, one value counted once) is written
    compactly: its value in ``values`` alone (see :data:`RAW_SUM`).
    """
    raw: dict[str, list[Any]] = {c: [] for c in RAW_COLUMNS}
    seen: dict[tuple[Any, ...], int] = {}
    for acct, item, *wal in batch:
        b = item if isinstance(item, DatumBatch) else DatumBatch.from_datums(item.namespace, [item])
        n = b.size
        ns = b.namespace
        ids = []
        # Validation shares one tuple between equal dimension sets of a request, so within a
        # batch (name, id(dims)) names a series; hashing that is far cheaper than hashing the
        # dimensions themselves, which a thousand-datum request would do a thousand times.
        local: dict[tuple[str, int], int] = {}
        for name, dims in zip(b.metric_names, b.dimensions, strict=True):
            sid = local.get((name, id(dims)))
            if sid is None:
                key = (acct, ns, name, dims)
                sid = seen.get(key)
                if sid is None:
                    sid = seen[key] = series_id(acct, ns, name, dims)
                local[(name, id(dims))] = sid
            ids.append(sid)
        seconds = [math.floor(t) for t in b.timestamps]
        raw["account"].extend([acct] * n)
        raw["series"].extend(ids)
        raw["unit"].extend(b.units)
        raw["resolution"].extend(b.resolutions)
        raw["ts"].extend(seconds)
        raw["ts_ms"].extend([min(round((t - s) * 1000), 999) for t, s in zip(b.timestamps, seconds, strict=True)])
        raw["count"].extend(b.sample_counts)
        # A one-value datum keeps its value once, in values (see RAW_SUM): the other copies cost
        # four times its bytes on disk.
        single = [c == 1.0 and len(cs) == 1 and cs[0] == 1.0 and len(vs) == 1 and vs[0] == s and lo == s and hi == s
                  for c, s, lo, hi, vs, cs in zip(b.sample_counts, b.sums, b.minimums, b.maximums, b.values,
                                                  b.counts, strict=True)]
        raw["values"].extend(b.values)
        if any(single):
            raw["sum"].extend([_NAN if one else x for one, x in zip(single, b.sums, strict=True)])
            raw["min"].extend([_NAN if one else x for one, x in zip(single, b.minimums, strict=True)])
            raw["max"].extend([_NAN if one else x for one, x in zip(single, b.maximums, strict=True)])
            raw["counts"].extend([_NONE if one else cs for one, cs in zip(single, b.counts, strict=True)])
        else:
            raw["sum"].extend(b.sums)
            raw["min"].extend(b.minimums)
            raw["max"].extend(b.maximums)
            raw["counts"].extend(b.counts)
        raw["wal_seq"].extend([wal[0] if wal else commit_id] * n)
    raw["wal_id"] = [wal_id] * len(raw["series"])
    return raw, seen


def catalog_columns(series: dict[tuple[Any, ...], int], now: float) -> dict[str, list[Any]]:
    """Catalog rows, ``last_seen`` = ``now``, of (account, namespace, metric, dimensions) -> series id."""
    keys = list(series)
    return {
        "account": [k[0] for k in keys], "namespace": [k[1] for k in keys], "metric": [k[2] for k in keys],
        "series": list(series.values()), "dim_names": [[x.name for x in k[3]] for k in keys],
        "dim_values": [[x.value for x in k[3]] for k in keys], "last_seen": [int(now)] * len(keys)}


def _range_params(account: str, series: int, start: int, end: int, period: int,
                  unit: str | None) -> dict[str, Any]:
    return {"account": account, "series": int(series), "start": int(start), "end": int(end),
            "period": int(period), "unit": unit}


_BUCKET = "%(start)s + intDiv(toUInt32(ts) - %(start)s, %(period)s) * %(period)s"
_RANGE = ("account = %(account)s AND series = %(series)s"
          " AND ts >= toDateTime(%(start)s, 'UTC') AND ts < toDateTime(%(end)s, 'UTC')")


class _CatalogMemory:
    """When this process last wrote each series' catalog row (bounded; forgetting is harmless)."""

    def __init__(self, refresh: float, capacity: int) -> None:
        self._refresh = refresh
        self._capacity = capacity
        self._written: dict[int, float] = {}
        self._lock = threading.Lock()  # a cluster's shards commit on several store threads at once

    def due(self, series: int, now: float) -> bool:
        """Whether the series' catalog row should be written (again) at ``now``."""
        last = self._written.get(series)
        return last is None or now - last >= self._refresh or now < last

    def written(self, series: Sequence[int], now: float) -> None:
        """Record a successful catalog write of ``series`` at ``now``."""
        with self._lock:
            self._remember(series, now)

    def _remember(self, series: Sequence[int], now: float) -> None:
        if len(self._written) + len(series) > self._capacity:
            self._written = {k: t for k, t in self._written.items() if now - t < self._refresh}
            if len(self._written) + len(series) > self._capacity:
                self._written.clear()
        for s in series:
            self._written[s] = now


class MetricStore:
    """Metric datapoints and the metric catalog of every account, in one database.

    Args:
        engine: the store engine (its threads run the blocking work).
        database: the database this store owns.
        catalog_refresh: seconds after which a series' catalog row is written again (0: always).
        catalog_memory: most series whose last catalog write is remembered.
    """

    def __init__(self, engine: AsyncEngine, database: str = "stackwatch_metrics", *,
                 catalog_refresh: float = 900.0, catalog_memory: int = 500_000) -> None:
        self._engine = engine
        self._db = identifier(database)
        self._schema = Schema(engine, self._db)
        self._shards = 1
        self._quorum_reads = False
        self._local_tables = re.compile(rf"\b{self._db}\.(raw|catalog|roll_5m|roll_1h)\b")  # their _local tables
        self._catalog = _CatalogMemory(catalog_refresh, catalog_memory)
        #: The schema's versions, run by :meth:`ensure_schema` (append; never change a released step).
        self.migrations = (Step(1, "raw, catalog, rollups and their views", self._tables),)

    @property
    def database(self) -> str:
        """The database this store owns."""
        return self._db

    @property
    def shards(self) -> int:
        """The store's shards: 1 off a cluster (known after :meth:`ensure_schema`)."""
        return self._shards

    def shard_of(self, account: str) -> int:
        """The shard (from 0) holding ``account``'s rows (0 off a cluster)."""
        return shard_of(account, self._shards) if self._shards > 1 else 0

    async def ensure_schema(self) -> None:
        """Create or migrate the database and tables (idempotent; see :attr:`migrations`)."""
        await self._schema.migrate("metrics", self.migrations)
        if self._schema.cluster:
            engine = self._engine.engine
            self._shards = await self._engine.run_sync(lambda: engine.shard_count)  # type: ignore[attr-defined]
            self._quorum_reads = engine.quorum_writes  # type: ignore[attr-defined]

    async def _tables(self, schema: Schema) -> None:
        """Migration 1: raw, catalog and the rollups with their views, from any earlier layout."""
        dialect = await schema.dialect()
        await schema.create_table(raw_ddl(self._db, dialect))
        await schema.create_table(catalog_ddl(self._db, dialect))
        have = await schema.columns("raw")
        for name, kind in _LATER_RAW_COLUMNS:  # 18.16 has no ADD COLUMN IF NOT EXISTS
            if name not in have:
                await schema.alter("raw", f"ADD COLUMN {name} {kind}")
        await self._ensure_rollups(schema, dialect)

    async def _ensure_rollups(self, schema: Schema, dialect: Dialect) -> None:
        """Create the rollup tables and the views that feed them; backfill a new table from raw.

        A data directory from before the rollups gets them at its first start: the table is
        created, filled from the raw rows (at most the raw tier's retention, so cheap: one
        INSERT ... SELECT), and only then is the view created. This runs before the service
        writes anything, so no datum is counted twice or missed; with several ingest processes
        sharing one database, the others must be stopped for that first start. An existing
        view means the tier is complete and is left as it is. On a cluster, each server's view
        reads its own ``raw_local`` and writes its own shard's rollup (a series' rows are all on
        one shard), and there is no earlier layout to backfill from.
        """
        tables = await schema.tables()
        for old in _OLD_VIEWS:
            if old in tables:  # replaced below by the view of this release, before anything is written
                await schema.drop(old)
                tables.discard(old)
        for tier, (table, view, _, _) in ROLLUPS.items():
            if table not in tables:
                await schema.create_table(rollup_ddl(self._db, tier, dialect))
                if not schema.cluster:
                    await self._engine.execute(f"INSERT INTO {self._db}.{table} {rollup_select(self._db, tier)}")
                    (rows,), = await self._engine.execute(f"SELECT count() FROM {self._db}.{table}")
                    if rows:
                        LOG.info("rollup %s.%s created, backfilled from raw: %d rows", self._db, table, rows)
            if view not in tables:
                await schema.create_view(view, table, rollup_select(self._db, tier, schema.local("raw")))

    async def insert(self, batch: Sequence[Row], now: float, wal_id: int = 0) -> None:
        """Write ``(account, datum)`` pairs durably: one catalog INSERT, then one raw INSERT.

        Args:
            batch: validated datums (a :class:`DatumBatch` of one namespace, or a single
                :class:`Datum`) with the account each belongs to; may mix accounts. A third
                element is the write-ahead log seq of the record the rows came from.
            now: wall-clock epoch seconds of the commit, recorded as the catalog's ``last_seen``.
            wal_id: the write-ahead log the rows came from (0: none).

        Raises:
            StoreUnavailable: retryable; the raw rows were not written (unless the error was
                ``UNKNOWN_STATUS_OF_INSERT``), the catalog rows may have been.
            StoreQueryError: not retryable.
        """
        if not batch:
            return
        if self._shards == 1:
            await self._engine.run_sync(self._write, batch, now, wal_id)
            return
        # a cluster: each shard's rows (catalog, then raw) go on their own, so that a shard that
        # cannot take them does not hold back the others (ShardsUnavailable names the failed ones)
        by_shard: dict[int, list[Row]] = {}
        for row in batch:
            by_shard.setdefault(self.shard_of(row[0]), []).append(row)
        shards = sorted(by_shard)
        outcomes = await asyncio.gather(*(self._engine.run_sync(self._write, by_shard[s], now, wal_id, s)
                                          for s in shards),
                                        return_exceptions=True)
        failed = {s: o for s, o in zip(shards, outcomes, strict=True) if isinstance(o, BaseException)}
        if not failed:
            return
        unavailable: dict[int, StoreUnavailable] = {}
        for shard, o in failed.items():
            if not isinstance(o, StoreUnavailable):
                raise o
            unavailable[shard] = o
        raise ShardsUnavailable(unavailable, [s for s in shards if s not in failed])

    async def _on_shard(self, shard: int | None, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a read of this store's tables; on a cluster and given a ``shard``, on that shard's own rows only.

        The write-ahead log applies each shard's records apart (one lane per shard), so what it
        asks of ClickHouse about them must not depend on the other shards being up.
        """
        if shard is None or not self._schema.cluster:
            return await self._engine.execute(sql, params)
        local = self._local_tables.sub(r"\g<0>_local", sql)
        engine = self._engine.engine
        return await self._engine.run_sync(engine.read_shard, shard, local, params)  # type: ignore[attr-defined]

    async def logged_rows(self, wal_id: int, first_seq: int, last_seq: int, since: int,
                          shard: int | None = None) -> set[tuple[int, int]]:
        """The (seq, day as yyyymmdd) pairs of write-ahead log ``wal_id`` the raw table holds.

        Only records ``first_seq..last_seq`` and rows from ``since`` (epoch seconds) on are looked
        at: the partitions before it are not read. An INSERT is atomic per partition, not across
        partitions, so a record is present or absent day by day. On a cluster, ``shard`` limits
        the question to that shard's rows (the records of its accounts).
        """
        rows = await self._on_shard(shard,
            f"SELECT DISTINCT wal_seq, toYYYYMMDD(ts) FROM {self._db}.raw"
            " WHERE ts >= toDateTime(%(since)s, 'UTC') AND wal_id = %(wal_id)s"
            " AND wal_seq >= %(first)s AND wal_seq <= %(last)s"
            # a cluster: only rows on a quorum, so that a part whose quorum is still open (written
            # on one replica before it died) is not seen on one replica and missed on the other
            + (" SETTINGS select_sequential_consistency = 1" if self._quorum_reads else ""),
            {"since": max(int(since), 0), "wal_id": wal_id, "first": first_seq, "last": last_seq})
        return {(int(seq), int(day)) for seq, day in rows}

    def _write(self, batch: Sequence[Row], now: float, wal_id: int, shard: int | None = None) -> None:
        # Runs on a store thread; on a cluster, one call per shard at a time (a committer per shard),
        # given the shard every row belongs to (the engine need not route them again, row by row).
        # Without a log, the commit's own random id marks its rows: a replicated table drops a
        # block identical to one it holds, so two commits of the same rows (two clients sending one
        # value at one timestamp, or one client twice) would otherwise be stored once. A resend of
        # this very block (stackwatch.store.ClusterEngine) keeps the id and is dropped, as it must be.
        raw, series = build_columns(batch, wal_id, 0 if wal_id else secrets.randbits(63) | 1)
        due = {key: sid for key, sid in series.items() if self._catalog.due(sid, now)}
        engine = self._engine.engine

        def insert(table: str, columns: Sequence[str], rows: dict[str, list[Any]]) -> None:
            if shard is None:
                engine.insert(f"{self._db}.{table}", columns, rows)
            else:
                engine.insert_shard(shard, self._schema.local(table), columns, rows)  # type: ignore[attr-defined]

        if due:
            insert("catalog", CATALOG_COLUMNS, catalog_columns(due, now))
            self._catalog.written(list(due.values()), now)
        insert("raw", RAW_COLUMNS, raw)

    async def statistics(self, account: str, series: int, start: int, end: int, period: int,
                         unit: str | None, *, tier: int = 0) -> list[StatRow]:
        """Per period bucket and unit: (bucket start, unit, sample count, sum, min, max).

        Buckets start at ``start + k * period``; datums count when ``start <= timestamp < end``
        (a sub-second timestamp counts in the second it falls in). Buckets without data are
        absent. With ``unit`` given, only datums of that unit count. Ordered by bucket, unit.
        ``tier`` is the table read: 0 raw, 300 or 3600 a rollup (whose rows count when their
        start is in the range; see ``read_tier``).
        """
        rows = await self._buckets(account, series, start, end, period, unit, histograms=False, tier=tier)
        return [(int(b), str(u), float(n), float(s), float(lo), float(hi)) for b, u, n, s, lo, hi in rows]

    async def histograms(self, account: str, series: int, start: int, end: int, period: int,
                         unit: str | None, *, tier: int = 0) -> Histograms:
        """Per (bucket start, unit): the distinct values with their summed counts, by value.

        Same buckets and filters as :meth:`statistics`. Datums stored as a statistic set only
        (no values) contribute nothing here, and neither does a value whose counts sum to zero;
        a bucket left with no value is absent. From a rollup, each value is its histogram key's
        representative, clamped to the bucket's minimum and maximum (within
        :data:`PERCENTILE_ERROR` of the value it stands for, relative), except that the first is
        the minimum and the last the maximum.
        """
        return (await self.statistics_and_histograms(account, series, start, end, period, unit, tier=tier))[1]

    async def statistics_and_histograms(self, account: str, series: int, start: int, end: int, period: int,
                                        unit: str | None, *, tier: int = 0) -> tuple[list[StatRow], Histograms]:
        """:meth:`statistics` and :meth:`histograms` of the same buckets, from one query."""
        rows = await self._buckets(account, series, start, end, period, unit, histograms=True, tier=tier)
        # Both engines already give Python ints, strs and floats: this is the hot path of a
        # percentile query (1,440 rows for a day of minutes), so nothing is converted again.
        stats: list[StatRow] = [(b, u, n, s, lo, hi) for b, u, n, s, lo, hi, _ in rows]
        hists: Histograms = {(r[0], r[1]): list(zip(*r[6], strict=True)) for r in rows if r[6][0]}
        return stats, hists

    def _aggregate_sql(self, tier: int, keys: str, group: str, where: str, *, histograms: bool,
                       extremes: bool = True) -> str:
        """``SELECT keys, count, sum, min, max[, (values, counts)]`` of raw or a rollup, grouped and ordered.

        Without ``extremes`` (and ``histograms``), min and max are not aggregated: NaN stands in.
        """
        extremes = extremes or histograms
        if tier == 0:
            histogram = f", sumMap(values, {RAW_COUNTS})" if histograms else ""
            lo_hi = f"min({RAW_MIN}), max({RAW_MAX})" if extremes else "nan, nan"
            return (f"SELECT {keys}, sum(count), sum({RAW_SUM}), {lo_hi}{histogram}"
                    f" FROM {self._db}.raw WHERE {where} GROUP BY {group} ORDER BY {group}")
        table = ROLLUPS[tier][0]
        lo_hi = "minMerge(min) AS lo, maxMerge(max) AS hi" if extremes else "nan AS lo, nan AS hi"
        inner = (f"SELECT {keys}, sumMerge(count) AS n, sumMerge(sum) AS s, {lo_hi}"
                 f"{', sumMapMerge(hist) AS h' if histograms else ''}"
                 f" FROM {self._db}.{table} WHERE {where} GROUP BY {group}")
        # The first key holds the minimum and the last the maximum (when the histogram holds every
        # sample, the only case percentiles are given): those two are exact, the rest clamped to them.
        histogram = (", tuple(arrayMap((k, i) -> if(i = 1, lo, if(i = length(h.1), hi,"
                     f" least(greatest({_REPRESENTATIVE}, lo), hi))), h.1, arrayEnumerate(h.1)), h.2)"
                     ) if histograms else ""
        return f"SELECT {group}, n, s, lo, hi{histogram} FROM ({inner}) ORDER BY {group}"

    async def _buckets(self, account: str, series: int, start: int, end: int, period: int, unit: str | None,
                       *, histograms: bool, tier: int = 0) -> list[tuple[Any, ...]]:
        unit_filter = " AND unit = %(unit)s" if unit is not None else ""
        rows: list[tuple[Any, ...]] = await self._engine.execute(
            self._aggregate_sql(tier, f"{_BUCKET} AS bucket, unit", "bucket, unit", _RANGE + unit_filter,
                                histograms=histograms),
            _range_params(account, series, start, end, period, unit))
        return rows

    async def series_buckets(self, account: str, series: Sequence[int], start: int, end: int, period: int,
                             unit: str | None, *, histograms: bool, tier: int = 0,
                             extremes: bool = True) -> dict[int, list[SeriesBucket]]:
        """Per series and period bucket, for many series at once (GetMetricData): one query.

        Args:
            account: the caller's account.
            series: the series ids (duplicates are harmless).
            start: first bucket start, epoch seconds; buckets start at ``start + k * period``.
            end: exclusive end, epoch seconds.
            period: bucket length, seconds.
            unit: only datums of this unit count; ``None``: every unit, merged into one bucket.
            histograms: whether to sum each bucket's values and counts too (for the percentile
                family; the rest need only the statistic set).
            tier: the table read: 0 raw, 300 or 3600 a rollup (see :meth:`statistics`).
            extremes: whether min and max are wanted; without (and without ``histograms``) they
                are not aggregated, and each bucket holds NaN for them.

        Returns:
            ``{series: [(bucket start, count, sum, min, max[, histogram]), ...]}`` ordered by bucket,
            the rows as the engine gives them (ints and floats), so that a day of minutes of 500
            series (720,000 rows) is not copied once more. With ``histograms``, the sixth member is
            ``(values, counts)``: two parallel arrays, values ascending, empty when the bucket has
            no values. Series without data are absent.
        """
        if not series:
            return {}
        unit_filter = " AND unit = %(unit)s" if unit is not None else ""
        where = ("account = %(account)s AND series IN %(series)s"
                 f" AND ts >= toDateTime(%(start)s, 'UTC') AND ts < toDateTime(%(end)s, 'UTC'){unit_filter}")
        rows: list[tuple[Any, ...]] = await self._engine.execute(
            self._aggregate_sql(tier, f"series, {_BUCKET} AS bucket", "series, bucket", where, histograms=histograms,
                                extremes=extremes),
            {"account": account, "series": tuple(sorted({int(s) for s in series})), "start": int(start),
             "end": int(end), "period": int(period), "unit": unit})
        return {series: [row[1:] for row in group] for series, group in groupby(rows, itemgetter(0))}

    # --- rollup repair ---------------------------------------------------------------------------

    #: Most windows one repair INSERT writes.
    _REPAIR_CHUNK = 500

    async def repair_rollups(self, wal_id: int, first_seq: int, last_seq: int, since: int,
                             shard: int | None = None) -> int:
        """Make whole again the rollup windows holding raw rows of write-ahead log records ``first_seq..last_seq``.

        An INSERT writes raw's part and then the views' parts; when it fails in between (a crash,
        a full disk), raw holds the rows and a rollup may not, and replay, which skips records
        raw holds, would never add them. So for each window of each tier that these records'
        rows fall in, raw's aggregate over the whole window is compared with the rollup's, and
        the difference is inserted: count, sum and the histogram are additive (a surplus is
        taken back just as a shortfall is added), min and max are idempotent. A window that
        already agrees gets nothing. Only rows from ``since`` (epoch seconds) on are looked at.

        Returns:
            How many (tier, series, unit, window) rows were repaired.
        """
        mine = ("ts >= toDateTime(%(since)s, 'UTC') AND wal_id = %(wal_id)s"
                " AND wal_seq >= %(first)s AND wal_seq <= %(last)s")
        records = f"SELECT account, series, unit, toStartOfHour(ts) FROM {self._db}.raw WHERE {mine}"
        params: dict[str, Any] = {"since": max(int(since), 0), "wal_id": wal_id, "first": first_seq,
                                  "last": last_seq}
        (lo, hi, n), = await self._on_shard(shard,
            f"SELECT toUInt32(min(toStartOfHour(ts))), toUInt32(max(toStartOfHour(ts))), count()"
            f" FROM {self._db}.raw WHERE {mine}", params)
        if not n:
            return 0
        params.update(lo=int(lo), hi=int(hi) + 3600)
        # the windows are named by a subquery, not listed: thousands of them would outgrow 18.16's
        # 256 KiB limit on a query's text
        where = ("ts >= toDateTime(%(lo)s, 'UTC') AND ts < toDateTime(%(hi)s, 'UTC')"
                 f" AND (account, series, unit, toStartOfHour(ts)) IN ({records})")
        repaired = 0
        for table, _, _, start in ROLLUPS.values():
            raw = await self._on_shard(shard,
                f"SELECT account, series, unit, toUInt32({start}) AS w, sum(count), sum({RAW_SUM}),"
                f" min({RAW_MIN}), max({RAW_MAX}), sumMap(arrayMap(v -> {_KEY}, values), {RAW_COUNTS})"
                f" FROM {self._db}.raw WHERE {where} GROUP BY account, series, unit, w", params)
            rolled = {(str(a), int(s), str(u), int(w)): (n, x, h) for a, s, u, w, n, x, h in await self._on_shard(shard,
                f"SELECT account, series, unit, toUInt32(ts) AS w, sumMerge(count), sumMerge(sum), sumMapMerge(hist)"
                f" FROM {self._db}.{table} WHERE {where} GROUP BY account, series, unit, w", params)}
            fix: dict[str, list[Any]] = {c: [] for c in ("a", "s", "u", "w", "n", "x", "lo", "hi", "k", "c")}
            for a, s, u, w, n, x, lo, hi, (hk, hc) in raw:
                key = (str(a), int(s), str(u), int(w))
                n0, x0, (hk0, hc0) = rolled.get(key, (0.0, 0.0, ([], [])))
                diff = dict(zip(hk, hc, strict=True))
                for k, c in zip(hk0, hc0, strict=True):
                    diff[k] = diff.get(k, 0.0) - c
                diff = {k: c for k, c in diff.items() if c != 0.0}
                if n == n0 and not diff and key in rolled:
                    continue
                for col, v in zip(fix, (*key, float(n - n0), float(x - x0), float(lo), float(hi),
                                        [int(k) for k in diff], [float(c) for c in diff.values()]), strict=True):
                    fix[col].append(v)
            if not fix["a"]:
                continue
            LOG.warning("rollup %s.%s: %d windows repaired from raw (write-ahead log records %d-%d)",
                        self._db, table, len(fix["a"]), first_seq, last_seq)
            repaired += len(fix["a"])
            for shard, rows in self._by_shard(fix).items():
                for at in range(0, len(rows["a"]), self._REPAIR_CHUNK):  # a bounded query text each
                    sql = render(
                        f"INSERT INTO {self._schema.local(table)}"
                        " (account, series, unit, ts, count, sum, min, max, hist)"
                        " SELECT %(a)s[i], %(s)s[i], %(u)s[i], toDateTime(%(w)s[i], 'UTC'), sumState(%(n)s[i]),"
                        " sumState(%(x)s[i]), minState(%(lo)s[i]), maxState(%(hi)s[i]),"
                        " sumMapState(arrayMap(k -> toInt64(k), %(k)s[i]), arrayMap(c -> toFloat64(c), %(c)s[i]))"
                        " FROM (SELECT arrayJoin(arrayEnumerate(%(a)s)) AS i) GROUP BY i",
                        {col: v[at:at + self._REPAIR_CHUNK] for col, v in rows.items()})
                    if shard is None:
                        await self._engine.execute(sql, idempotent=False)
                    else:
                        await self._engine.run_sync(self._engine.engine.on_shard, shard, sql)  # type: ignore[attr-defined]
        return repaired

    def _by_shard(self, fix: dict[str, list[Any]]) -> dict[int | None, dict[str, list[Any]]]:
        """Repair rows by the shard holding their account (one group, ``None``, off a cluster)."""
        if not self._schema.cluster:
            return {None: fix}
        engine = self._engine.engine
        out: dict[int | None, dict[str, list[Any]]] = {}
        for i, account in enumerate(fix["a"]):
            part = out.setdefault(engine.shard_of(account), {c: [] for c in fix})  # type: ignore[attr-defined]
            for c, values in fix.items():
                part[c].append(values[i])
        return out

    # --- retention --------------------------------------------------------------------------------

    async def partitions(self) -> dict[str, list[str]]:
        """Each table's active partitions (``toYYYYMMDD`` or ``toYYYYMM`` values), by table name."""
        tables = ("raw",) + tuple(table for table, _, _, _ in ROLLUPS.values())
        local = {self._schema.local(t).split(".", 1)[1]: t for t in tables}
        sql = render("SELECT DISTINCT table, partition FROM system.parts"
                     " WHERE database = %(db)s AND active AND table IN %(tables)s",
                     {"db": self._db, "tables": tuple(local)})
        if self._schema.cluster:  # each shard's servers hold their own parts
            rows = [r for shard in await self._engine.run_sync(self._engine.engine.on_each_shard, sql)  # type: ignore[attr-defined]
                    for r in shard]
        else:
            rows = await self._engine.execute(sql)
        out: dict[str, list[str]] = {t: [] for t in tables}
        for table, partition in rows:
            p = str(partition).strip("'")
            if p not in out[local[str(table)]]:
                out[local[str(table)]].append(p)
        return out

    async def expire(self, now: float, schedule: RetentionSchedule) -> list[tuple[str, str]]:
        """Drop every partition the schedule has expired at ``now``; the (table, partition) pairs dropped.

        Each drop is logged. Raw partitions go after the raw tiers' retention, each rollup's
        after its own (see ``services.ingest.domain.expired``).
        """
        retention = {"raw": schedule.raw, **{table: schedule.rollup(t) for t, (table, _, _, _) in ROLLUPS.items()}}
        dropped = []
        for table, parts in (await self.partitions()).items():
            for partition in expired(parts, now, retention[table]):
                if not partition.isdigit():  # our partition keys are numbers; anything else is not ours
                    continue
                await self._schema.alter(table, f"DROP PARTITION {partition}", front=False)
                LOG.info("retention: dropped %s.%s partition %s (all of it older than %.4g days)",
                         self._db, table, partition, retention[table] / 86400)
                dropped.append((table, partition))
        return dropped

    async def list_metrics(self, account: str, *, namespace: str | None = None,
                           metric_name: str | None = None,
                           dimension_filters: Sequence[tuple[str, str | None]] = (), active_since: int,
                           after: tuple[str, str, int] | None = None, limit: int = 500) -> list[MetricRow]:
        """One page of the account's metrics: (namespace, metric, dimensions, series).

        Args:
            account: the caller's account; nothing else is ever visible.
            namespace: only this namespace (exact).
            metric_name: only this metric name (exact).
            dimension_filters: (name, value) pairs every listed metric must have; a None value
                means the dimension with any value.
            active_since: epoch seconds; only metrics that received data at or after it.
            after: keyset position (namespace, metric, series) of the previous page's last row.
            limit: most rows returned.

        Returns:
            Rows ordered by (namespace, metric, series), strictly after ``after``.
        """
        where = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account, "since": active_since}
        if namespace is not None:
            where.append("namespace = %(namespace)s")
            params["namespace"] = namespace
        if metric_name is not None:
            where.append("metric = %(metric)s")
            params["metric"] = metric_name
        for i, (name, value) in enumerate(dimension_filters):
            params[f"dn{i}"] = name
            if value is None:
                where.append(f"has(dim_names, %(dn{i})s)")
            else:
                params[f"dv{i}"] = value
                where.append(f"arrayExists((n, v) -> n = %(dn{i})s AND v = %(dv{i})s, dim_names, dim_values)")
        return await self._catalog_page(where, params, after, limit)

    # --- GetMetricData: SEARCH expressions and Metrics Insights queries --------------------------
    # How a search compiles: every term becomes a condition on the catalog row. Exact terms
    # (phrases, MetricName="X", Dim="v", the schema) are exact in SQL. A partial word becomes a
    # necessary condition only: its full token (alphanumerics, lower-cased) must be a substring of
    # the property's alphanumerics, which holds whenever a word matches (see _search). NOT of an
    # inexact condition proves nothing and becomes true. So the SQL selects a superset of the
    # matches, and the rows are filtered with ``matches`` in Python, page by page; when the whole
    # filter is exact, SQL's own LIMIT is the answer.

    async def search_metrics(self, account: str, search: SearchFilter, active_since: int,
                             limit: int = MAX_SEARCH_RESULTS) -> list[MetricRow]:
        """The account's metrics a SEARCH query selects: (namespace, metric, dimensions, series).

        Args:
            account: the caller's account; no other account's catalog row is ever read.
            search: the parsed query (:func:`~services.ingest.domain.parse_search`).
            active_since: epoch seconds; only metrics that received data at or after it
                (CloudWatch searches the last two weeks).
            limit: most rows returned (CloudWatch: 500; ask for one more to learn that more match).

        Returns:
            Rows ordered by (namespace, metric, series), exactly those :func:`matches` selects.
        """
        params: dict[str, Any] = {"account": account, "since": active_since}
        where = ["account = %(account)s"]
        if search.namespace is not None:
            params["schema_ns"] = search.namespace
            where.append("namespace = %(schema_ns)s")
            if search.dimension_names:
                params["schema_dims"] = list(search.dimension_names)
                where.append("dim_names = %(schema_dims)s")
            else:
                where.append("empty(dim_names)")
        exact = True
        if search.expr is not None:
            sql, exact = self._search_sql(search.expr, params)
            where.append(f"({sql})")
        page = limit if exact else max(limit, self._SEARCH_PAGE)
        rows: list[MetricRow] = []
        after: tuple[str, str, int] | None = None
        while True:
            batch = await self._catalog_page(where, params, after, page)
            if exact:
                return batch
            rows.extend(r for r in batch if matches(search, r[0], r[1], r[2]))
            if len(rows) >= limit or len(batch) < page:
                return rows[:limit]
            after = (batch[-1][0], batch[-1][1], batch[-1][3])

    _SEARCH_PAGE = 5000
    #: A string's alphanumerics, lower-cased: ``_search.full_token`` in SQL.
    _ALNUM = "replaceRegexpAll(lower({}), '[^a-z0-9]', '')"

    @classmethod
    def _search_sql(cls, node: SearchNode, params: dict[str, Any]) -> tuple[str, bool]:
        """``node`` as a condition on a catalog row, and whether it is exact (else a superset)."""
        if isinstance(node, SearchTerm):
            return cls._term_sql(node, params)
        if isinstance(node, SearchNot):
            sql, exact = cls._search_sql(node.item, params)
            return (f"NOT ({sql})", True) if exact else ("1", False)
        parts = [cls._search_sql(item, params) for item in node.items]
        op = " AND " if isinstance(node, SearchAnd) else " OR "
        return op.join(f"({sql})" for sql, _ in parts), all(exact for _, exact in parts)

    @classmethod
    def _term_sql(cls, t: SearchTerm, params: dict[str, Any]) -> tuple[str, bool]:
        key = f"t{len(params)}"
        if t.exact:
            params[key] = t.text
            same = f"{{}} = %({key})s"
        else:
            params[key] = full_token(t.text)
            if not params[key]:
                return "0", True
            same = f"position({cls._ALNUM}, %({key})s) > 0"
        if t.prop is None:
            return (f"{same.format('namespace')} OR {same.format('metric')}"
                    f" OR arrayExists(x -> {same.format('x')}, dim_names)"
                    f" OR arrayExists(x -> {same.format('x')}, dim_values)", t.exact)
        if t.prop == "MetricName":
            return same.format("metric"), t.exact
        if t.prop == "Namespace":
            return same.format("namespace"), t.exact
        params[key + "n"] = t.prop
        return (f"arrayExists((n, v) -> n = %({key}n)s AND {same.format('v')}, dim_names, dim_values)",
                t.exact)

    async def _catalog_page(self, where: list[str], params: dict[str, Any], after: tuple[str, str, int] | None,
                            limit: int) -> list[MetricRow]:
        """One keyset page of catalog rows active since ``params["since"]`` (ListMetrics and SEARCH)."""
        conditions = list(where)
        params = dict(params, limit=limit)
        if after is not None:
            params.update(after_ns=after[0], after_metric=after[1], after_series=after[2])
            conditions.append("namespace >= %(after_ns)s AND (namespace, metric, series)"
                              " > (%(after_ns)s, %(after_metric)s, %(after_series)s)")
        rows = await self._engine.execute(
            "SELECT namespace, metric, series, any(dim_names), any(dim_values)"
            f" FROM {self._db}.catalog WHERE {' AND '.join(conditions)}"
            " GROUP BY namespace, metric, series"
            " HAVING max(last_seen) >= toDateTime(%(since)s, 'UTC')"
            " ORDER BY namespace, metric, series LIMIT %(limit)s", params)
        return [(str(ns), str(m), list(zip(names, values, strict=True)), int(s))
                for ns, m, s, names, values in rows]

    # How an Insights query runs: one statement. The catalog subquery selects the series
    # (account, namespace, metric, SCHEMA's key set, WHERE on dimension values; deduplicated,
    # the first 10,000 by series id) with their dimensions; raw is read by ``series IN`` that
    # set (the primary key prunes), joined back to it for the group keys, aggregated per
    # (group, period), then per group into arrays plus the ORDER BY value, ordered and limited.
    # The join is ALL (the catalog side has one row per series): modern engines' ANY INNER JOIN
    # also keeps one row per key of the *left* side. Aliases over joined columns are not chained
    # (18.16 loses them under GROUP BY), and joined subqueries are aliased (modern engines need it).
    # Every table is read with ``account = %(account)s`` first.

    #: Most catalog metrics one Insights query reads (the first ones by series id).
    _INSIGHTS_SCAN = MAX_INSIGHTS_METRICS
    _PERIOD_AGG = {Function.SUM: "sum(s)", Function.COUNT: "sum(n)", Function.MAX: "max(hi)",
                   Function.MIN: "min(lo)", Function.AVG: "sum(s) / sum(n)"}
    _SERIES_AGG = {Function.SUM: "sum(v)", Function.COUNT: "count()", Function.MAX: "max(v)",
                   Function.MIN: "min(v)", Function.AVG: "avg(v)"}

    async def insights(self, account: str, query: InsightsQuery, start: int, end: int,
                       period: int) -> list[tuple[dict[str, str], list[tuple[int, float]]]]:
        """Run a Metrics Insights query over [start, end): one (group, datapoints) per series.

        Args:
            account: the caller's account; no other account's row is ever read.
            query: the parsed query (:func:`~services.ingest.domain.parse_insights`).
            start: epoch seconds, inclusive; periods start at ``start + k * period``.
            end: epoch seconds, exclusive.
            period: seconds per datapoint.

        Returns:
            Series in the query's order (ORDER BY, else by group values), at most ``query.limit``.
            A group maps each GROUP BY key to its value, leaving out keys of the null group
            (``Other``); without GROUP BY it is ``{}``. Datapoints are (period start, value) in
            time order; periods without data are absent, and so is a query without data (or with
            an empty range or a period that is not positive).
        """
        if period <= 0 or end <= start:
            return []
        params: dict[str, Any] = {"account": account, "start": int(start), "end": int(end), "period": int(period)}
        sql, width = self._insights_sql(query, params)
        out = []
        for row in await self._engine.execute(sql, params):
            found = {k: str(row[2 * i]) for i, k in enumerate(query.group_by) if row[2 * i + 1]}
            buckets, values = row[width], row[width + 1]
            out.append((found, sorted((int(b), float(v)) for b, v in zip(buckets, values, strict=True))))
        return out

    def _insights_sql(self, query: InsightsQuery, params: dict[str, Any]) -> tuple[str, int]:
        """The statement of ``query`` (adding its parameters) and how many group columns lead its rows."""
        params.update(ns=query.namespace, metric=query.metric_name, scan=self._INSIGHTS_SCAN, limit=query.limit)
        where = ["account = %(account)s", "namespace = %(ns)s", "metric = %(metric)s"]
        if query.schema is not None:
            params["schema"] = list(query.schema)
            where.append("dim_names = %(schema)s" if query.schema else "empty(dim_names)")
        if query.where is not None:
            where.append(self._where_sql(query.where, params))
        catalog = (f"SELECT series, any(dim_names) AS names, any(dim_values) AS vals FROM {self._db}.catalog"
                   f" WHERE {' AND '.join(where)} GROUP BY series ORDER BY series LIMIT %(scan)s")
        keys, cols = ["0 AS g"], ["g"]
        if query.group_by:
            keys, cols = [], []
            params["other"] = OTHER
            for i, key in enumerate(query.group_by):
                params[f"gk{i}"] = key
                at = f"indexOf(names, %(gk{i})s)"  # 18.16 loses aliases of joined columns: no alias chains
                keys += [f"if({at} > 0, arrayElement(vals, {at}), %(other)s) AS v{i}", f"{at} > 0 AS h{i}"]
                cols += [f"v{i}", f"h{i}"]
        group = ", ".join(cols)
        order = f"o {'DESC' if query.descending else 'ASC'}, {group}" if query.order_by else group
        having = " HAVING sum(n) > 0" if query.function is Function.AVG else ""
        return (
            f"SELECT {group}, groupArray(bucket), groupArray(v),"
            f" {self._SERIES_AGG[query.order_by or query.function]} AS o FROM ("
            f" SELECT {', '.join(keys)}, bucket, {self._PERIOD_AGG[query.function]} AS v FROM ("
            f"  SELECT series, {_BUCKET} AS bucket, count AS n, {RAW_SUM} AS s, {RAW_MIN} AS lo, {RAW_MAX} AS hi"
            f"  FROM {self._db}.raw"
            "   WHERE account = %(account)s AND ts >= toDateTime(%(start)s, 'UTC') AND ts < toDateTime(%(end)s, 'UTC')"
            f"   AND series IN (SELECT series FROM ({catalog}))"
            f" ) AS d ALL INNER JOIN ({catalog}) AS c USING series"
            f" GROUP BY {group}, bucket{having}"
            f") GROUP BY {group} ORDER BY {order} LIMIT %(limit)s"), len(cols)

    @classmethod
    def _where_sql(cls, c: Condition, params: dict[str, Any]) -> str:
        """An Insights WHERE condition on a catalog row (exact: see ``_insights.holds``)."""
        if isinstance(c, Negation):
            return f"NOT ({cls._where_sql(c.item, params)})"
        if isinstance(c, Conjunction | Disjunction):
            op = " AND " if isinstance(c, Conjunction) else " OR "
            return "(" + op.join(f"({cls._where_sql(i, params)})" for i in c.items) + ")"
        key = f"w{len(params)}"
        params[key] = c.key
        if c.op in ("LIKE", "NOT LIKE"):
            params[key + "p"] = cls._like_regex(c.values[0])
            test = f"match(v, %({key}p)s)"
        else:
            params[key + "p"] = list(c.values)
            test = f"has(%({key}p)s, v)"
        hit = f"arrayExists((n, v) -> n = %({key})s AND {test}, dim_names, dim_values)"
        return f"NOT {hit}" if c.op in ("!=", "NOT LIKE", "NOT IN") else hit

    @staticmethod
    def _like_regex(pattern: str) -> str:
        """A LIKE pattern (``%`` the only wildcard) as an anchored re2 regex for ``match``."""
        def literal(part: str) -> str:
            return "".join(ch if ch.isalnum() or not ch.isascii() else f"\\x{{{ord(ch):02x}}}" for ch in part)
        return "^" + "(?s:.*)".join(literal(p) for p in pattern.split("%")) + "$"
