"""The engines themselves, on ClickHouse 18.16 and chDB: parameters, inserts, errors, threads."""

from __future__ import annotations

import asyncio
import math
import random
import struct
import subprocess
import sys
import time

import pytest

from stackwatch import errors
from stackwatch.store import (
    AsyncEngine,
    ChdbEngine,
    Engine,
    ServerEngine,
    StoreConfigError,
    StoreQueryError,
    StoreUnavailable,
    open_engine,
    quote,
    render,
)
from stackwatch.store._engine import classify
from stackwatch.store.testing import free_port
from tests.integration.test_metric_store import HOSTILE


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a):
        return math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _random_doubles(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    out = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(n)]
    out += [rng.uniform(-1e6, 1e6) for _ in range(n)]
    out += [rng.random() * 10.0 ** rng.randint(-300, 300) for _ in range(n)]
    return out + [0.0, -0.0, 0.1, 1 / 3, 5e-324, -1e-310, 2.2250738585072014e-308, 1.7976931348623157e308,
                  float("inf"), float("-inf"), float("nan")]


# --- quoting: the one substitution both engines use ----------------------------------------------

def test_strings_round_trip(store_engine: Engine) -> None:
    texts = [*HOSTILE, "".join(chr(i) for i in range(128)), "", "\\'", "'\\", "\\\\'",
             "\ud7ff\ue000\U0010ffff"]
    got = store_engine.execute("SELECT %(t)s", {"t": texts})
    assert got == [(texts,)]
    for t in texts:
        assert store_engine.execute("SELECT %(t)s, length(%(t)s)", {"t": t}) == [(t, len(t.encode()))]


def test_floats_round_trip_bit_for_bit(store_engine: Engine) -> None:
    floats = _random_doubles(500, seed=11)
    (got,), = store_engine.execute("SELECT %(f)s", {"f": floats})
    bad = [(a, b) for a, b in zip(floats, got, strict=True) if not _same_float(a, b)]
    assert bad == []


def test_integers_none_bool_tuples_bytes(store_engine: Engine) -> None:
    row = store_engine.execute(
        "SELECT %(a)s, %(b)s, %(c)s, %(d)s, %(e)s, %(f)s, hex(%(g)s), %(h)s, %(i)s",
        {"a": 0, "b": -(2**63), "c": 2**64 - 1, "d": None, "e": True, "f": (1, "x'"), "g": b"\x00\xff'\\",
         "h": [[1, 2], [], [3]], "i": (7,)})
    assert row == [(0, -(2**63), 2**64 - 1, None, 1, (1, "x'"), "00FF275C", [[1, 2], [], [3]], (7,))]


def test_placeholder_rules() -> None:
    assert render("SELECT '%(x)s'", None) == "SELECT '%(x)s'"  # no params: verbatim
    assert render("SELECT %(x)s, '%%'", {"x": "a'b"}) == "SELECT 'a\\'b', '%'"
    with pytest.raises(KeyError):
        render("SELECT %(missing)s", {})
    with pytest.raises(ValueError, match="stray"):
        render("SELECT 'a%' , %(x)s", {"x": 1})
    with pytest.raises(ValueError):
        quote(2**64)
    with pytest.raises(TypeError):
        quote(object())
    with pytest.raises(TypeError):
        quote({"a": 1})


def test_a_parameter_is_never_sql(store_engine: Engine) -> None:
    evil = "x') UNION ALL SELECT name FROM system.tables --"
    assert store_engine.execute("SELECT %(e)s", {"e": evil}) == [(evil,)]
    assert store_engine.execute("SELECT count() FROM system.one WHERE %(e)s = 'x'", {"e": evil}) == [(0,)]


# --- inserts ---------------------------------------------------------------------------------------

def test_columnar_insert_of_every_column_kind(store_engine: Engine, database: str) -> None:
    store_engine.execute(f"CREATE DATABASE {database}")
    store_engine.execute(f"""CREATE TABLE {database}.t (s String, n UInt64, i Int32, f Float64, b UInt8,
        ts DateTime('UTC'), a Array(Float64), sa Array(String)) ENGINE = MergeTree ORDER BY s""")
    cols = {"s": ["x'", "y\n", "z"], "n": [2**64 - 1, 0, 5], "i": [-1, 2**31 - 1, 0], "f": [0.1, -0.0, 1e300],
            "b": [1, 60, 255], "ts": [0, 1_800_000_000, 4_294_967_295], "a": [(1.5,), [], [2.0, 3.0]],
            "sa": [["a", "b"], (), ["ü"]]}
    store_engine.insert(f"{database}.t", list(cols), cols)
    store_engine.insert(f"{database}.t", list(cols), {c: [] for c in cols})  # empty: nothing happens
    rows = store_engine.execute(f"SELECT s, n, i, f, b, toUInt32(ts), a, sa FROM {database}.t ORDER BY s")
    assert rows == [("x'", 2**64 - 1, -1, 0.1, 1, 0, [1.5], ["a", "b"]),
                    ("y\n", 0, 2**31 - 1, -0.0, 60, 1_800_000_000, [], []),
                    ("z", 5, 0, 1e300, 255, 4_294_967_295, [2.0, 3.0], ["ü"])]


def test_bad_inserts_are_not_retryable(store_engine: Engine, database: str) -> None:
    store_engine.execute(f"CREATE DATABASE {database}")
    store_engine.execute(f"CREATE TABLE {database}.t (s String, f Float64) ENGINE = MergeTree ORDER BY s")
    with pytest.raises(StoreQueryError) as e:
        store_engine.insert(f"{database}.t", ["s", "f"], {"s": ["a"], "f": ["not a number"]})
    assert not e.value.retryable and e.value.status == 500
    with pytest.raises(StoreQueryError):
        store_engine.insert(f"{database}.missing", ["s"], {"s": ["a"]})
    with pytest.raises(ValueError, match="differ in length"):
        store_engine.insert(f"{database}.t", ["s", "f"], {"s": ["a", "b"], "f": [1.0]})
    with pytest.raises(ValueError, match="identifier"):
        store_engine.insert(f"{database}.t; DROP", ["s"], {"s": ["a"]})
    assert store_engine.execute(f"SELECT count() FROM {database}.t") == [(0,)]


def test_inline_insert_values_is_refused_not_hung(store_engine: Engine, database: str) -> None:
    store_engine.execute(f"CREATE DATABASE {database}")
    store_engine.execute(f"CREATE TABLE {database}.t (s String) ENGINE = MergeTree ORDER BY s")
    for sql in (f"INSERT INTO {database}.t VALUES ('a')", f"insert into {database}.t (s) values",
                f"INSERT INTO {database}.t FORMAT CSV"):
        with pytest.raises(ValueError, match="inline INSERT"):
            store_engine.execute(sql)
    store_engine.execute(f"INSERT INTO {database}.t (s) SELECT 'from select'", idempotent=False)
    assert store_engine.execute(f"SELECT s FROM {database}.t") == [("from select",)]


# --- errors and retries ----------------------------------------------------------------------------

def test_syntax_errors_fail_at_once(store_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = store_engine._query  # type: ignore[attr-defined]

    def counting(sql: str) -> object:
        calls.append(sql)
        return original(sql)

    monkeypatch.setattr(store_engine, "_query", counting)
    with pytest.raises(StoreQueryError) as e:
        store_engine.execute("SELEC 1")
    assert len(calls) == 1
    assert e.value.db_code == 62 and "Syntax error" in e.value.message
    assert isinstance(e.value, errors.InternalFailure) and e.value.code == "InternalFailure"


def test_transient_errors_are_retried_until_they_pass(store_engine: Engine,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    original = store_engine._query  # type: ignore[attr-defined]
    failures = iter([StoreUnavailable("Code: 252. Too many parts", db_code=252)] * 2)

    def flaky(sql: str) -> object:
        err = next(failures, None)
        if err:
            raise err
        return original(sql)

    monkeypatch.setattr(store_engine, "_query", flaky)
    assert store_engine.execute("SELECT 1") == [(1,)]


def test_unreachable_server_is_unavailable_after_a_few_tries() -> None:
    engine = ServerEngine(f"clickhouse://127.0.0.1:{free_port()}?connect_timeout=0.5", read_attempts=3,
                          read_deadline=3.0)
    start = time.monotonic()
    with pytest.raises(StoreUnavailable) as e:
        engine.execute("SELECT 1")
    assert time.monotonic() - start < 3.0
    assert e.value.retryable and e.value.status == 503 and e.value.code == "ServiceUnavailable"
    with pytest.raises(StoreUnavailable):
        engine.insert("db.t", ["a"], {"a": [1]})
    engine.close()


@pytest.mark.parametrize(("exc", "retryable"), [
    (ConnectionResetError("reset"), True),
    (TimeoutError(), True),
    (EOFError("Unexpected EOF while reading bytes"), True),
    (RuntimeError("Code: 252. DB::Exception: Too many parts (300)"), True),
    (RuntimeError("Code: 241. DB::Exception: Memory limit exceeded"), True),
    (RuntimeError("Code: 62. DB::Exception: Syntax error"), False),
    (RuntimeError("Code: 60. DB::Exception: Table x.y doesn't exist"), False),
    (RuntimeError("no code at all"), False),
], ids=["reset", "timeout", "eof", "too-many-parts", "memory", "syntax", "unknown-table", "no-code"])
def test_classification(exc: BaseException, retryable: bool) -> None:
    assert classify(exc).retryable is retryable


def test_bad_urls() -> None:
    for url in ("postgres://x", "clickhouse://", "clickhouse://h:9000?nope=1", "clickhouse://h?pool_size=0",
                "clickhouse://h?connect_timeout=soon", "clickhouse://h:port", "chdb://"):
        with pytest.raises(StoreConfigError):
            open_engine(url)
    engine = open_engine("clickhouse://u:p%40ss@h:9001/db?pool_size=2&read_attempts=1&connect_timeout=0.5")
    assert engine.url == "clickhouse://h:9001/db"  # no password
    engine.close()


# --- versions, dialect, threads --------------------------------------------------------------------

def test_version_picks_the_dialect(store_engine: Engine, engine_url: str) -> None:
    version = store_engine.version()
    dialect = store_engine.dialect()
    if engine_url.startswith("clickhouse://"):
        assert version[:2] == (18, 16) and not dialect.modern  # Debian's server
        assert dialect.low_cardinality("String") == "String" and dialect.codec("ZSTD") == ""
    else:
        assert version[0] >= 24 and dialect.modern


async def test_async_calls_do_not_block_the_loop(async_engine: AsyncEngine) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        results = await asyncio.gather(
            *[async_engine.execute("SELECT sleep(0.3), %(i)s", {"i": i}) for i in range(4)])
    finally:
        task.cancel()
    assert [r[0][1] for r in results] == [0, 1, 2, 3]
    assert ticks >= 15  # the loop kept running while four statements slept in parallel


async def test_concurrent_inserts_and_reads(async_engine: AsyncEngine, database: str) -> None:
    await async_engine.execute(f"CREATE DATABASE {database}")
    await async_engine.execute(
        f"CREATE TABLE {database}.t (k UInt32, v Array(Float64)) ENGINE = MergeTree ORDER BY k")
    inserts = [async_engine.insert(f"{database}.t", ["k", "v"],
                                   {"k": list(range(i * 100, i * 100 + 100)), "v": [[float(i)]] * 100})
               for i in range(8)]
    reads = [async_engine.execute("SELECT count() FROM system.one") for _ in range(8)]
    await asyncio.gather(*inserts, *reads)
    assert await async_engine.execute(f"SELECT count(), uniqExact(k), sum(v[1]) FROM {database}.t") == [
        (800, 800, 2800.0)]


def test_chdb_allows_one_path_per_process(chdb_url: str, tmp_path: pytest.TempPathFactory) -> None:
    first = open_engine(chdb_url)
    try:
        same = open_engine(chdb_url + "/")  # the same directory, spelled differently
        assert isinstance(same, ChdbEngine) and same.execute("SELECT 1") == [(1,)]
        same.close()
        with pytest.raises(StoreConfigError, match="one chDB data path"):
            open_engine(f"chdb://{tmp_path}/other")
        assert first.execute("SELECT 2") == [(2,)]
    finally:
        first.close()


def test_chdb_path_is_locked_against_other_processes(chdb_url: str) -> None:
    engine = open_engine(chdb_url)
    try:
        child = subprocess.run(
            [sys.executable, "-c",
             "import sys\nfrom stackwatch.store import open_engine, StoreConfigError\n"
             "try:\n    open_engine(sys.argv[1])\nexcept StoreConfigError as e:\n    print('refused:', e)\n",
             chdb_url], capture_output=True, text=True, timeout=60)
        assert child.stdout.startswith("refused:"), child.stdout + child.stderr
        assert engine.execute("SELECT 1") == [(1,)]
    finally:
        engine.close()
