"""The ingest service's tables and every SQL statement it runs.

ingest owns one database (``stackwatch_metrics`` by default) with two tables:

``raw``       one row per datum, full precision: MergeTree partitioned by day, sorted by
              (account, series, ts), so one metric's range is one contiguous read. A datum is
              kept as its statistic set (count, sum, min, max) plus its values and counts, which
              percentiles need. ``ts`` is the second the datum falls in (floor), ``ts_ms`` the
              milliseconds within it. The metric's identity (namespace, name, dimensions) is not
              repeated per row: ``series`` names it, and the catalog maps it back. Every read
              goes by series, and leaving the strings out halves what each insert costs the
              server and the client library.
``catalog``   one identity per metric for ListMetrics: ReplacingMergeTree(last_seen) sorted by
              (account, namespace, metric, series). ``last_seen`` is the wall-clock time the data
              was *received* (the ``now`` given to :meth:`MetricStore.insert`), not the datum's
              timestamp: ListMetrics shows metrics that received data in the last two weeks (or
              three hours for RecentlyActive=PT3H), whatever timestamps that data carried.

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

import math
from collections.abc import Sequence
from typing import Any

from stackwatch.domain.metrics import Datum, DatumBatch, series_id
from stackwatch.store import AsyncEngine, Dialect, identifier

Row = tuple[str, DatumBatch | Datum]
StatRow = tuple[int, str, float, float, float, float]
Histograms = dict[tuple[int, str], list[tuple[float, float]]]
MetricRow = tuple[str, str, list[tuple[str, str]], int]
SeriesBucket = tuple[int, float, float, float, float, list[tuple[float, float]]]

RAW_COLUMNS = ("account", "series", "unit", "resolution", "ts", "ts_ms", "count", "sum", "min", "max", "values",
               "counts")
CATALOG_COLUMNS = ("account", "namespace", "metric", "series", "dim_names", "dim_values", "last_seen")


def raw_ddl(db: str, d: Dialect) -> str:
    """``CREATE TABLE`` of the raw datapoints."""
    lc = d.low_cardinality
    return f"""
CREATE TABLE IF NOT EXISTS {db}.raw (
    account {lc('String')},
    series UInt64,
    unit {lc('String')},
    resolution UInt8,
    ts DateTime('UTC'){d.codec('DoubleDelta', 'ZSTD')},
    ts_ms UInt16,
    count Float64{d.codec('Gorilla', 'ZSTD')},
    sum Float64{d.codec('Gorilla', 'ZSTD')},
    min Float64{d.codec('Gorilla', 'ZSTD')},
    max Float64{d.codec('Gorilla', 'ZSTD')},
    values Array(Float64){d.codec('ZSTD')},
    counts Array(Float64){d.codec('ZSTD')}
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (account, series, ts)"""


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


def build_columns(batch: Sequence[Row], now: float) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The raw and catalog columns for one insert: (raw, catalog).

    Each ``(account, DatumBatch)`` extends every raw column at once; each distinct (account,
    namespace, metric, dimensions) is hashed once and gives one catalog row whose ``last_seen`` is
    ``now``. A :class:`Datum` in place of a batch counts as a batch of one.
    """
    raw: dict[str, list[Any]] = {c: [] for c in RAW_COLUMNS}
    seen: dict[tuple[Any, ...], int] = {}
    for acct, item in batch:
        b = item if isinstance(item, DatumBatch) else DatumBatch.from_datums(item.namespace, [item])
        n = b.size
        ns = b.namespace
        ids = []
        for name, dims in zip(b.metric_names, b.dimensions, strict=True):
            key = (acct, ns, name, dims)
            sid = seen.get(key)
            if sid is None:
                sid = seen[key] = series_id(acct, ns, name, dims)
            ids.append(sid)
        seconds = [math.floor(t) for t in b.timestamps]
        raw["account"].extend([acct] * n)
        raw["series"].extend(ids)
        raw["unit"].extend(b.units)
        raw["resolution"].extend(b.resolutions)
        raw["ts"].extend(seconds)
        raw["ts_ms"].extend([min(round((t - s) * 1000), 999) for t, s in zip(b.timestamps, seconds, strict=True)])
        raw["count"].extend(b.sample_counts)
        raw["sum"].extend(b.sums)
        raw["min"].extend(b.minimums)
        raw["max"].extend(b.maximums)
        raw["values"].extend(b.values)
        raw["counts"].extend(b.counts)
    last_seen = int(now)
    keys = list(seen)
    catalog: dict[str, list[Any]] = {
        "account": [k[0] for k in keys], "namespace": [k[1] for k in keys], "metric": [k[2] for k in keys],
        "series": list(seen.values()), "dim_names": [[x.name for x in k[3]] for k in keys],
        "dim_values": [[x.value for x in k[3]] for k in keys], "last_seen": [last_seen] * len(keys)}
    return raw, catalog


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

    def due(self, series: int, now: float) -> bool:
        """Whether the series' catalog row should be written (again) at ``now``."""
        last = self._written.get(series)
        return last is None or now - last >= self._refresh or now < last

    def written(self, series: Sequence[int], now: float) -> None:
        """Record a successful catalog write of ``series`` at ``now``."""
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
        self._catalog = _CatalogMemory(catalog_refresh, catalog_memory)

    @property
    def database(self) -> str:
        """The database this store owns."""
        return self._db

    async def ensure_schema(self) -> None:
        """Create the database and tables if missing (idempotent; no migrations yet)."""
        dialect = await self._engine.dialect()
        await self._engine.execute(f"CREATE DATABASE IF NOT EXISTS {self._db}")
        await self._engine.execute(raw_ddl(self._db, dialect))
        await self._engine.execute(catalog_ddl(self._db, dialect))

    async def insert(self, batch: Sequence[Row], now: float) -> None:
        """Write ``(account, datum)`` pairs durably: one catalog INSERT, then one raw INSERT.

        Args:
            batch: validated datums (a :class:`DatumBatch` of one namespace, or a single
                :class:`Datum`) with the account each belongs to; may mix accounts.
            now: wall-clock epoch seconds of the commit, recorded as the catalog's ``last_seen``.

        Raises:
            StoreUnavailable: retryable; the raw rows were not written (unless the error was
                ``UNKNOWN_STATUS_OF_INSERT``), the catalog rows may have been.
            StoreQueryError: not retryable.
        """
        if batch:
            await self._engine.run_sync(self._write, batch, now)

    def _write(self, batch: Sequence[Row], now: float) -> None:
        # Runs on a store thread, one call at a time (the group committer has a single writer).
        raw, catalog = build_columns(batch, now)
        due = [i for i, series in enumerate(catalog["series"]) if self._catalog.due(series, now)]
        engine = self._engine.engine
        if due:
            if len(due) < len(catalog["series"]):
                catalog = {c: [values[i] for i in due] for c, values in catalog.items()}
            engine.insert(f"{self._db}.catalog", CATALOG_COLUMNS, catalog)
            self._catalog.written(catalog["series"], now)
        engine.insert(f"{self._db}.raw", RAW_COLUMNS, raw)

    async def statistics(self, account: str, series: int, start: int, end: int, period: int,
                         unit: str | None) -> list[StatRow]:
        """Per period bucket and unit: (bucket start, unit, sample count, sum, min, max).

        Buckets start at ``start + k * period``; datums count when ``start <= timestamp < end``
        (a sub-second timestamp counts in the second it falls in). Buckets without data are
        absent. With ``unit`` given, only datums of that unit count. Ordered by bucket, unit.
        """
        rows = await self._buckets(account, series, start, end, period, unit, histograms=False)
        return [(int(b), str(u), float(n), float(s), float(lo), float(hi)) for b, u, n, s, lo, hi in rows]

    async def histograms(self, account: str, series: int, start: int, end: int, period: int,
                         unit: str | None) -> Histograms:
        """Per (bucket start, unit): the distinct values with their summed counts, by value.

        Same buckets and filters as :meth:`statistics`. Datums stored as a statistic set only
        (no values) contribute nothing here, and neither does a value whose counts sum to zero;
        a bucket left with no value is absent.
        """
        return (await self.statistics_and_histograms(account, series, start, end, period, unit))[1]

    async def statistics_and_histograms(self, account: str, series: int, start: int, end: int, period: int,
                                        unit: str | None) -> tuple[list[StatRow], Histograms]:
        """:meth:`statistics` and :meth:`histograms` of the same buckets, from one query."""
        rows = await self._buckets(account, series, start, end, period, unit, histograms=True)
        # Both engines already give Python ints, strs and floats: this is the hot path of a
        # percentile query (1,440 rows for a day of minutes), so nothing is converted again.
        stats: list[StatRow] = [(b, u, n, s, lo, hi) for b, u, n, s, lo, hi, _ in rows]
        hists: Histograms = {(r[0], r[1]): list(zip(*r[6], strict=True)) for r in rows if r[6][0]}
        return stats, hists

    async def _buckets(self, account: str, series: int, start: int, end: int, period: int, unit: str | None,
                       *, histograms: bool) -> list[tuple[Any, ...]]:
        unit_filter = " AND unit = %(unit)s" if unit is not None else ""
        histogram = ", sumMap(values, counts)" if histograms else ""
        rows: list[tuple[Any, ...]] = await self._engine.execute(
            f"SELECT {_BUCKET} AS bucket, unit, sum(count), sum(sum), min(min), max(max){histogram}"
            f" FROM {self._db}.raw WHERE {_RANGE}{unit_filter}"
            " GROUP BY bucket, unit ORDER BY bucket, unit",
            _range_params(account, series, start, end, period, unit))
        return rows

    async def series_buckets(self, account: str, series: Sequence[int], start: int, end: int, period: int,
                             unit: str | None, *, histograms: bool) -> dict[int, list[SeriesBucket]]:
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

        Returns:
            ``{series: [(bucket start, count, sum, min, max, histogram), ...]}`` ordered by bucket,
            where ``histogram`` is ``[(value, count), ...]`` sorted by value, empty when the bucket
            has no values or none were asked for. Series without data are absent.
        """
        if not series:
            return {}
        unit_filter = " AND unit = %(unit)s" if unit is not None else ""
        histogram = ", sumMap(values, counts)" if histograms else ""
        rows: list[tuple[Any, ...]] = await self._engine.execute(
            f"SELECT series, {_BUCKET} AS bucket, sum(count), sum(sum), min(min), max(max){histogram}"
            f" FROM {self._db}.raw WHERE account = %(account)s AND series IN %(series)s"
            " AND ts >= toDateTime(%(start)s, 'UTC') AND ts < toDateTime(%(end)s, 'UTC')"
            f"{unit_filter} GROUP BY series, bucket ORDER BY series, bucket",
            {"account": account, "series": tuple(sorted({int(s) for s in series})), "start": int(start),
             "end": int(end), "period": int(period), "unit": unit})
        out: dict[int, list[SeriesBucket]] = {}
        for row in rows:
            hist = list(zip(*row[6], strict=True)) if histograms and row[6][0] else []
            out.setdefault(int(row[0]), []).append(
                (int(row[1]), float(row[2]), float(row[3]), float(row[4]), float(row[5]), hist))
        return out

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
        params: dict[str, Any] = {"account": account, "since": active_since, "limit": limit}
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
        if after is not None:
            params.update(after_ns=after[0], after_metric=after[1], after_series=after[2])
            where.append("namespace >= %(after_ns)s AND (namespace, metric, series)"
                         " > (%(after_ns)s, %(after_metric)s, %(after_series)s)")
        rows = await self._engine.execute(
            "SELECT namespace, metric, series, any(dim_names), any(dim_values)"
            f" FROM {self._db}.catalog WHERE {' AND '.join(where)}"
            " GROUP BY namespace, metric, series"
            " HAVING max(last_seen) >= toDateTime(%(since)s, 'UTC')"
            " ORDER BY namespace, metric, series LIMIT %(limit)s", params)
        return [(str(ns), str(m), list(zip(names, values, strict=True)), int(s))
                for ns, m, s, names, values in rows]
