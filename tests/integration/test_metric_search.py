"""SEARCH and Metrics Insights on a real ClickHouse 18.16 server and on chDB: the same tests, once per engine."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.domain import matches, parse_insights, parse_search, selects
from services.ingest.store import MetricStore
from stackwatch.store import AsyncEngine
from tests.integration.datums import ACCOUNT_A, ACCOUNT_B, T0, sid, stat_set, value

HOSTILE = ["it's", 'double "quoted"', "back\\slash\\", "'; DROP TABLE raw; --", "%(account)s %% _",
           "new\nline", "nul\x00byte", "ünïcødé 漢字 😀", "(paren)", "a%b_c"]

CATALOG = [
    ("AWS/EC2", "CPUUtilization", [("InstanceId", "i-1234567890123456")]),
    ("AWS/EC2", "CPUUtilization", [("InstanceId", "i-0000000000000001")]),
    ("AWS/EC2", "CPUUtilization", [("InstanceType", "t2.micro")]),
    ("AWS/EC2", "CPUUtilization", [("InstanceType", "m5.large")]),
    ("AWS/EC2", "CPUUtilization", []),
    ("AWS/EC2", "NetworkPacketsIn", [("InstanceId", "i-1234567890123456")]),
    ("AWS/Lambda", "Errors", [("FunctionName", "ProjectA-ingest")]),
    ("AWS/Lambda", "Errors", [("FunctionName", "other")]),
    ("AWS/Lambda", "Invocations", [("FunctionName", "ProjectA-ingest")]),
    ("AWS/Lambda", "Invocations", [("FunctionName", "ProjectB-web")]),
    ("AWS/Lambda", "Invocations", [("FunctionName", "ProjectC")]),
    ("MyNamespace", "CustomCount1", [("Host", "a")]),
    ("My Namespace", "Network-Errors-2", [("Dimension@Name", "Custom:Name[Special_Characters")]),
    ("App", "ConnectionErrors", [("Service", "api")]),
    ("App", "Errors", [("Service", "api")]),
    ("App", "errors", [("Service", "web")]),
]


def _batch(account: str, catalog: list = CATALOG) -> list:
    return [(account, value(T0, 1.0, ns=ns, name=name, d=d)) for ns, name, d in catalog]


def _keys(rows: list) -> list[tuple[str, str, list]]:
    """The identities of search rows, sorted, after checking the rows come in (namespace, metric, series) order."""
    order = [(ns, name, s) for ns, name, _, s in rows]
    assert order == sorted(order)
    return sorted((ns, name, d) for ns, name, d, _ in rows)


def _expected(query: str, catalog: list = CATALOG) -> list[tuple[str, str, list]]:
    f = parse_search(query)
    chosen = {(ns, name, tuple(sorted(d))) for ns, name, d in catalog if matches(f, ns, name, d)}
    return sorted((ns, name, list(d)) for ns, name, d in chosen)


# The user guide's examples (search-expression-syntax / -examples), with what each selects here.
GUIDE = [
    ('{AWS/EC2,InstanceId} MetricName="CPUUtilization"', 2),
    ("{AWS/EC2,InstanceType} MetricName=\"CPUUtilization\"", 2),
    ('{AWS/EC2} MetricName="CPUUtilization"', 1),
    ('{AWS/EC2,InstanceType} InstanceType=micro MetricName="CPUUtilization"', 1),
    ('{AWS/EC2,InstanceType} InstanceType="t2.micro" MetricName="CPUUtilization"', 1),
    ('MetricName="CPUUtilization"', 5),
    ('{AWS/EC2,InstanceId} MetricName="CPUUtilization" NOT i-1234567890123456', 1),
    ('{AWS/Lambda,FunctionName} MetricName="Errors" OR (MetricName="Invocations" AND (ProjectA OR ProjectB))', 4),
    ("NOT Namespace=AWS", 5),
    (" Errors ", 6),
    (' "Errors" ', 3),
    (' {"My Namespace", "Dimension@Name"}, "Custom:Name[Special_Characters" ', 1),
    ("{MyNamespace} count", 0),
    ("{MyNamespace,Host} count", 1),
    ("couNT", 0),
    ("Count1", 1),
    ("network-errors", 1),
    ("network AND packets", 1),
    ("(EC2 OR EBS) AND MetricName=CPUUtilization", 5),
    ("ProjectA AND NOT MetricName=Errors", 1),
]


@pytest.mark.parametrize(("query", "count"), GUIDE, ids=[q for q, _ in GUIDE])
async def test_search_selects_what_matches_selects(store: MetricStore, query: str, count: int) -> None:
    await store.insert(_batch(ACCOUNT_A), now=T0)

    rows = await store.search_metrics(ACCOUNT_A, parse_search(query), active_since=T0 - 10)

    assert _keys(rows) == _expected(query)
    assert len(rows) == count


async def test_search_never_reads_another_account(store: MetricStore) -> None:
    await store.insert(_batch(ACCOUNT_A) + _batch(ACCOUNT_B), now=T0)
    for query, _ in GUIDE:
        a = await store.search_metrics(ACCOUNT_A, parse_search(query), active_since=0)
        b = await store.search_metrics(ACCOUNT_B, parse_search(query), active_since=0)
        assert _keys(a) == _keys(b) == _expected(query)
        assert {s for *_, s in a}.isdisjoint(s for *_, s in b)
    assert await store.search_metrics("nobody", parse_search("NOT Namespace=x"), active_since=0) == []


async def test_search_only_sees_recently_active_metrics_and_stops_at_the_limit(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0, 1.0, name="Old"))], now=T0 - 20 * 86400)
    await store.insert([(ACCOUNT_A, value(T0, 1.0, name=f"M{i:03}", d=[("Host", f"h{i}")])) for i in range(30)],
                       now=T0)
    since = T0 - 14 * 86400
    assert await store.search_metrics(ACCOUNT_A, parse_search('MetricName="Old"'), active_since=since) == []
    exact = await store.search_metrics(ACCOUNT_A, parse_search("{App,Host}"), active_since=since, limit=7)
    partial = await store.search_metrics(ACCOUNT_A, parse_search("NOT h3"), active_since=since, limit=7)
    assert [r[1] for r in exact] == [f"M{i:03}" for i in range(7)]
    assert [r[1] for r in partial] == ["M000", "M001", "M002", "M004", "M005", "M006", "M007"]


async def test_search_pages_through_a_large_inexact_scan(store: MetricStore) -> None:
    batch = [(ACCOUNT_A, value(T0, 1.0, name="M", d=[("Host", f"h{i:05}")])) for i in range(6000)]
    await store.insert(batch, now=T0)
    rows = await store.search_metrics(ACCOUNT_A, parse_search("NOT h00001"), active_since=T0, limit=10_000)
    assert len(rows) == 5999


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_strings_are_only_ever_parameters(store: MetricStore, async_engine: AsyncEngine,
                                                        text: str) -> None:
    catalog = [(text, text, [(text, text)]), ("App", "M", [("Host", text)])]
    await store.insert(_batch(ACCOUNT_A, catalog), now=T0)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for query in (f'"{escaped}"', f'Host="{escaped}"', f'{{"{escaped}", "{escaped}"}}',
                  f'MetricName="{escaped}" OR Namespace="{escaped}"'):
        rows = await store.search_metrics(ACCOUNT_A, parse_search(query), active_since=0)
        assert _keys(rows) == _expected(query, catalog) != []
    tables = await async_engine.execute("SELECT count() FROM system.tables WHERE database = %(db)s",
                                        {"db": store.database})
    assert tables == [(7,)]  # raw, catalog, two rollups and their views, schema_migrations


# --- hypothesis: random catalogs, random filters ---------------------------------------------------

WORDS = ["Errors", "errors", "Count", "CustomCount1", "cpu", "CPU", "i-12", "t2.micro", "Network-Errors",
         "AWS/EC2", "App", "a", "ProjectA", "x y", "SDBFailure", "2", ""]
NAMES = ["Host", "InstanceId", "Service", "Dim Name"]


def _catalog_strategy() -> st.SearchStrategy[list]:
    word = st.sampled_from([w for w in WORDS if w])
    dims = st.dictionaries(st.sampled_from(NAMES), word, max_size=3).map(lambda d: sorted(d.items()))
    return st.lists(st.tuples(st.sampled_from(["AWS/EC2", "App", "My Namespace"]), word, dims), min_size=1,
                    max_size=25)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def _terms(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 5 if depth < 3 else 2))
    w = draw(st.sampled_from(WORDS[:-1]))
    if kind == 0:
        return _quote(w)
    if kind == 1:
        return w if " " not in w else _quote(w)
    if kind == 2:
        prop = draw(st.sampled_from(["MetricName", "Namespace", *NAMES]))
        prop = _quote(prop) if " " in prop else prop
        return f"{prop}={_quote(w) if draw(st.booleans()) or ' ' in w else w}"
    if kind == 3:
        return f"NOT {draw(_terms(depth + 1))}"
    op = draw(st.sampled_from([" AND ", " OR ", " "]))
    return f"({draw(_terms(depth + 1))}{op}{draw(_terms(depth + 1))})"


@st.composite
def _queries(draw: st.DrawFn) -> str:
    schema = ""
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=2))
        schema = "{" + ", ".join(_quote(n) for n in [draw(st.sampled_from(["AWS/EC2", "App"])), *names]) + "} "
    return schema + (draw(_terms()) if not schema or draw(st.booleans()) else "")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(catalog=_catalog_strategy(), queries=st.lists(_queries(), min_size=1, max_size=5))
async def test_search_metrics_returns_exactly_what_matches_selects(async_engine: AsyncEngine, database: str,
                                                                   catalog: list, queries: list[str]) -> None:
    store = MetricStore(async_engine, database, catalog_refresh=0)
    await store.ensure_schema()
    await async_engine.execute(f"TRUNCATE TABLE {database}.catalog")
    await store.insert(_batch(ACCOUNT_A, catalog), now=T0)
    for query in queries:
        rows = await store.search_metrics(ACCOUNT_A, parse_search(query), active_since=0)
        assert _keys(rows) == _expected(query, catalog), query


# --- Metrics Insights ----------------------------------------------------------------------------------

def _fleet() -> list:
    """Three instances of two types over two 60 s periods, plus an aggregate and another namespace."""
    out = []
    for t, (inst, itype, vals) in enumerate([("i-1", "t2.micro", [1.0, 3.0]), ("i-2", "t2.micro", [5.0, 7.0]),
                                             ("i-3", "m5.large", [10.0, 20.0])]):
        for p, v in enumerate(vals):
            d = [("InstanceId", inst), ("InstanceType", itype)]
            out.append(value(T0 + 60 * p + t, v, ns="AWS/EC2", name="CPUUtilization", d=d))
    out.append(value(T0 + 5, 100.0, ns="AWS/EC2", name="CPUUtilization"))
    out.append(value(T0 + 5, 50.0, ns="AWS/EC2", name="CPUUtilization", d=[("InstanceId", "i-9")]))
    out.append(value(T0 + 5, 1000.0, ns="Other", name="CPUUtilization", d=[("InstanceId", "i-1")]))
    return out


async def _insights(store: MetricStore, account: str, query: str) -> list:
    return await store.insights(account, parse_insights(query), T0, T0 + 120, 60)


async def test_insights_aggregates_across_matching_series_per_period(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, d) for d in _fleet()], now=T0)
    q = 'SELECT {}(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId, InstanceType)'
    assert await _insights(store, ACCOUNT_A, q.format("SUM")) == [({}, [(T0, 16.0), (T0 + 60, 30.0)])]
    assert await _insights(store, ACCOUNT_A, q.format("AVG")) == [({}, [(T0, 16 / 3), (T0 + 60, 10.0)])]
    assert await _insights(store, ACCOUNT_A, q.format("MIN")) == [({}, [(T0, 1.0), (T0 + 60, 3.0)])]
    assert await _insights(store, ACCOUNT_A, q.format("MAX")) == [({}, [(T0, 10.0), (T0 + 60, 20.0)])]
    assert await _insights(store, ACCOUNT_A, q.format("COUNT")) == [({}, [(T0, 3.0), (T0 + 60, 3.0)])]
    # FROM a namespace: every dimension set; SCHEMA(ns): only the metric without dimensions
    assert await _insights(store, ACCOUNT_A, 'SELECT SUM(CPUUtilization) FROM "AWS/EC2"') == [
        ({}, [(T0, 166.0), (T0 + 60, 30.0)])]
    assert await _insights(store, ACCOUNT_A, 'SELECT MAX(CPUUtilization) FROM SCHEMA("AWS/EC2")') == [
        ({}, [(T0, 100.0)])]
    assert await _insights(store, ACCOUNT_A, 'SELECT MAX(Nothing) FROM "AWS/EC2"') == []


async def test_insights_avg_is_over_all_datums_of_the_period(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, stat_set(T0 + 1, 4.0, 40.0, 1.0, 20.0, d=[("Host", "a")])),
                        (ACCOUNT_A, value(T0 + 2, 1.0, d=[("Host", "b")]))], now=T0)
    assert await _insights(store, ACCOUNT_A, "SELECT AVG(Latency) FROM App") == [({}, [(T0, 41.0 / 5)])]


async def test_insights_where_group_by_order_by_limit(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, d) for d in _fleet()], now=T0)
    base = 'SELECT SUM(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId, InstanceType) '
    by_type = await _insights(store, ACCOUNT_A, base + "GROUP BY InstanceType")
    assert by_type == [({"InstanceType": "m5.large"}, [(T0, 10.0), (T0 + 60, 20.0)]),
                       ({"InstanceType": "t2.micro"}, [(T0, 6.0), (T0 + 60, 10.0)])]
    top = await _insights(store, ACCOUNT_A, base + "GROUP BY InstanceId ORDER BY MAX() DESC LIMIT 2")
    assert [g for g, _ in top] == [{"InstanceId": "i-3"}, {"InstanceId": "i-2"}]
    low = await _insights(store, ACCOUNT_A, base + "GROUP BY InstanceId ORDER BY SUM() ASC LIMIT 1")
    assert low == [({"InstanceId": "i-1"}, [(T0, 1.0), (T0 + 60, 3.0)])]
    for where, ids in [("InstanceType = 't2.micro'", ["i-1", "i-2"]),
                       ("InstanceType != 't2.micro'", ["i-3"]),
                       ("InstanceId IN ('i-1', 'i-3', 'nope')", ["i-1", "i-3"]),
                       ("InstanceId NOT IN ('i-1')", ["i-2", "i-3"]),
                       ("InstanceType LIKE 't2.%'", ["i-1", "i-2"]),
                       ("InstanceType NOT LIKE '%micro'", ["i-3"]),
                       ("InstanceId = 'i-1' OR (InstanceType = 'm5.large' AND NOT InstanceId = 'i-2')", ["i-1", "i-3"]),
                       ("Missing = 'x'", [])]:
        rows = await _insights(store, ACCOUNT_A, base + f"WHERE {where} GROUP BY InstanceId")
        assert [g["InstanceId"] for g, _ in rows] == ids, where


async def test_insights_group_by_a_key_some_metrics_lack_is_a_group_of_its_own(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, d) for d in _fleet()], now=T0)
    rows = await _insights(store, ACCOUNT_A, 'SELECT MAX(CPUUtilization) FROM "AWS/EC2" GROUP BY InstanceType')
    # "Other" (the metric without dimensions and the i-9 one) sorts as the word: before lower case
    assert [g for g, _ in rows] == [{}, {"InstanceType": "m5.large"}, {"InstanceType": "t2.micro"}]
    assert rows[0][1] == [(T0, 100.0)]


async def test_insights_never_reads_another_account(store: MetricStore) -> None:
    # identical metrics in both accounts, B's values a thousand times A's
    await store.insert([(ACCOUNT_A, d) for d in _fleet()], now=T0)
    await store.insert([(ACCOUNT_B, d._replace(stats=d.stats._replace(sum=d.stats.sum * 1000))) for d in _fleet()],
                       now=T0)
    for q in ['SELECT SUM(CPUUtilization) FROM "AWS/EC2" GROUP BY InstanceId',
              "SELECT SUM(CPUUtilization) FROM SCHEMA(\"AWS/EC2\", InstanceId, InstanceType) WHERE InstanceId != 'x'"]:
        a = await _insights(store, ACCOUNT_A, q)
        b = await _insights(store, ACCOUNT_B, q)
        assert [g for g, _ in a] == [g for g, _ in b] != []
        assert [[(t, v * 1000) for t, v in points] for _, points in a] == [points for _, points in b]
        assert await _insights(store, "nobody", q) == []


async def test_insights_reads_at_most_the_scan_limit_of_metrics(store: MetricStore) -> None:
    datums = [value(T0, float(i), name="M", d=[("Host", f"h{i}")]) for i in range(5)]
    await store.insert([(ACCOUNT_A, d) for d in datums], now=T0)
    store._INSIGHTS_SCAN = 3
    rows = await _insights(store, ACCOUNT_A, "SELECT SUM(M) FROM App GROUP BY Host")
    first = sorted(range(5), key=lambda i: sid(ACCOUNT_A, name="M", d=[("Host", f"h{i}")]))[:3]
    assert sorted(g["Host"] for g, _ in rows) == sorted(f"h{i}" for i in first)


VALUES = ["a", "A", "a%b", "a_b", "x.y", "it's", "back\\", "new\nline", "ü漢", "%", "", "ab", "b"]


@st.composite
def _where(draw: st.DrawFn, depth: int = 0) -> str:
    def lit(v: str) -> str:
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"

    kind = draw(st.integers(0, 6 if depth < 3 else 3))
    key = draw(st.sampled_from(["K", "L", "Missing"]))
    v = draw(st.sampled_from(VALUES))
    if kind == 0:
        return f"{key} {draw(st.sampled_from(['=', '!=']))} {lit(v)}"
    if kind == 1:
        pattern = draw(st.sampled_from(["%", ""])) + v + draw(st.sampled_from(["%", "", "%b"]))
        return f"{key} {draw(st.sampled_from(['LIKE', 'NOT LIKE']))} {lit(pattern)}"
    if kind in (2, 3):
        vs = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=3))
        return f"{key} {draw(st.sampled_from(['IN', 'NOT IN']))} ({', '.join(lit(x) for x in vs)})"
    if kind == 4:
        return f"NOT ({draw(_where(depth + 1))})"
    return f"({draw(_where(depth + 1))}) {draw(st.sampled_from(['AND', 'OR']))} ({draw(_where(depth + 1))})"


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(wheres=st.lists(_where(), min_size=1, max_size=4))
async def test_insights_where_selects_what_the_reference_selects(async_engine: AsyncEngine, database: str,
                                                                 wheres: list[str]) -> None:
    store = MetricStore(async_engine, database)
    await store.ensure_schema()
    if not (await async_engine.execute(f"SELECT count() FROM {database}.catalog"))[0][0]:
        metrics = [[("Id", str(i)), ("K", k)] + ([("L", lv)] if lv is not None else [])
                   for i, (k, lv) in enumerate((k, lv) for k in VALUES for lv in (None, *VALUES[:4]))]
        await store.insert([(ACCOUNT_A, value(T0, 1.0, name="M", d=d)) for d in metrics], now=T0)
    catalog = await store.list_metrics(ACCOUNT_A, active_since=0, limit=10_000)
    for where in wheres:
        q = parse_insights(f"SELECT SUM(M) FROM App WHERE {where} GROUP BY Id")
        rows = await _insights(store, ACCOUNT_A, f"SELECT SUM(M) FROM App WHERE {where} GROUP BY Id LIMIT 500")
        expected = {dict(d)["Id"] for ns, name, d, _ in catalog if selects(q, ns, name, d)}
        assert {g["Id"] for g, _ in rows} == expected, where


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
async def test_insights_hostile_strings(store: MetricStore, text: str) -> None:
    await store.insert([(ACCOUNT_A, value(T0, 2.0, ns=text, name=text, d=[(text, text)])),
                        (ACCOUNT_A, value(T0, 3.0, ns=text, name=text, d=[(text, text + "x")]))], now=T0)
    ident = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    string = "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    like = "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "%'"
    for where, total in [(f"= {string}", 2.0), (f"LIKE {like}", 5.0), (f"IN ({string})", 2.0), (f"!= {string}", 3.0)]:
        q = f"SELECT SUM({ident}) FROM SCHEMA({ident}, {ident}) WHERE {ident} {where} GROUP BY {ident}"
        rows = await store.insights(ACCOUNT_A, parse_insights(q), T0, T0 + 60, 60)
        assert math.fsum(v for _, points in rows for _, v in points) == total, where


async def test_insights_random_fleets_agree_with_a_python_reference(store: MetricStore) -> None:
    rng = random.Random(11)
    datums = [value(T0 + rng.uniform(0, 600), float(rng.randint(-5, 50)), ns="N", name="M",
                    d=[("Host", f"h{rng.randrange(6)}"), ("Zone", f"z{rng.randrange(3)}")]) for _ in range(400)]
    await store.insert([(ACCOUNT_A, d) for d in datums], now=T0)
    for func, reduce in [("SUM", math.fsum), ("MAX", max), ("MIN", min), ("COUNT", len),
                         ("AVG", lambda xs: math.fsum(xs) / len(xs))]:
        q = parse_insights(f"SELECT {func}(M) FROM N WHERE Host != 'h0' GROUP BY Zone ORDER BY MAX() DESC")
        rows = await store.insights(ACCOUNT_A, q, T0, T0 + 600, 120)
        groups: dict[str, dict[int, list[float]]] = {}
        for d in datums:
            dims = dict((x.name, x.value) for x in d.dimensions)
            if dims["Host"] != "h0":
                bucket = T0 + (int(d.timestamp) - T0) // 120 * 120
                groups.setdefault(dims["Zone"], {}).setdefault(bucket, []).append(d.stats.sum)
        expected = {z: [(b, pytest.approx(float(reduce(vs)))) for b, vs in sorted(per.items())]
                    for z, per in groups.items()}
        assert {g["Zone"]: points for g, points in rows} == expected
        maxima = [max(v for _, v in points) for _, points in rows]
        assert maxima == sorted(maxima, reverse=True)
