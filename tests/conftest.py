"""Shared fixtures: the two ClickHouse engines every store-backed test layer runs against.

Engines
    ``clickhouse_url``   session: a private Debian ``clickhouse-server`` (18.16) started for this
                         test process on a free 127.0.0.1 port, with its own temporary data, log and
                         tmp directories and a generated config (native TCP only, no HTTP or
                         interserver listener; user ``default``, no password, from 127.0.0.1).
                         Killed at the end. No binary: the tests using it are skipped, unless the
                         ``CI`` variable is set, where they fail (CI must not silently skip).
    ``chdb_url``         session: ``chdb://<tmp dir>``. chDB allows one data path per process, so
                         every test of a process (integration and e2e alike) shares this one.
    ``engine_url``       session, parametrized ``server`` / ``chdb``: a test using it (or the
                         fixtures below) runs once per engine. ``-k chdb`` runs without a server.

Connections
    ``store_engine``     session: the synchronous :class:`~stackwatch.store.Engine` for
                         ``engine_url``, shared by the tests of that engine.
    ``async_engine``     session: an :class:`~stackwatch.store.AsyncEngine` over it (its thread pool
                         is not bound to an event loop, so per-test loops may share it).
    ``database``         function: a fresh database name, dropped after the test. Tests never see
                         each other's data.

pytest-xdist: session fixtures are per worker process, so each worker starts its own server and
owns its own chDB directory; nothing is shared between workers.

The store used by ``tests/e2e`` is ``e2e_store_url``: chDB by default (``stackwatch up``'s store),
the server with ``STACKWATCH_TEST_STORE=server``.

::

    async def test_something(async_engine, database):
        store = MetricStore(async_engine, database)
        await store.ensure_schema()
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import pytest

from stackwatch.store import AsyncEngine, Engine, open_engine
from stackwatch.store.testing import ClickHouseServer, server_command

ENGINES = [pytest.param("server", id="server", marks=pytest.mark.clickhouse), pytest.param("chdb", id="chdb")]


def unavailable(reason: str) -> None:
    """Skip the test for lack of a server it needs; under CI (``CI`` set) fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this is a failure, not a skip")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def clickhouse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseServer]:
    """A private clickhouse-server process for this test process (see the module docstring)."""
    if server_command() is None:
        unavailable("clickhouse-server is not installed (apt-get install clickhouse-server, or set "
                    "STACKWATCH_CLICKHOUSE_SERVER)")
    server = ClickHouseServer(tmp_path_factory.mktemp("clickhouse"))
    try:
        server.start()
    except (RuntimeError, OSError) as e:
        pytest.fail(f"could not start clickhouse-server: {e}")
    # The driver logs a traceback per failed connect; the tests that provoke them don't need it.
    logging.getLogger("clickhouse_driver.connection").setLevel(logging.ERROR)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def clickhouse_url(clickhouse_server: ClickHouseServer) -> str:
    """``clickhouse://127.0.0.1:PORT`` of the private server."""
    return clickhouse_server.url


@pytest.fixture(scope="session")
def chdb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``chdb://<dir>``: this process's one embedded-store directory."""
    return f"chdb://{tmp_path_factory.mktemp('chdb').resolve()}"


@pytest.fixture(scope="session", params=ENGINES)
def engine_url(request: pytest.FixtureRequest) -> str:
    """Each engine's URL in turn (ids ``server`` and ``chdb``)."""
    return str(request.getfixturevalue("clickhouse_url" if request.param == "server" else "chdb_url"))


@pytest.fixture(scope="session")
def store_engine(engine_url: str) -> Iterator[Engine]:
    """The synchronous engine for ``engine_url``, open for the session."""
    engine = open_engine(engine_url)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def async_engine(store_engine: Engine) -> Iterator[AsyncEngine]:
    """An :class:`AsyncEngine` over ``store_engine`` (4 threads)."""
    engine = AsyncEngine(store_engine, threads=4, close_engine=False)
    yield engine
    engine.close()


@pytest.fixture
def database(store_engine: Engine) -> Iterator[str]:
    """A database name no other test uses; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    store_engine.execute(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture(scope="session")
def e2e_store_url(request: pytest.FixtureRequest) -> str:
    """The store the e2e stack runs on: ``STACKWATCH_TEST_STORE`` = ``chdb`` (default) or ``server``."""
    choice = os.environ.get("STACKWATCH_TEST_STORE", "chdb")
    if choice not in ("chdb", "server"):
        raise pytest.UsageError(f"STACKWATCH_TEST_STORE must be chdb or server, not {choice!r}")
    return str(request.getfixturevalue("clickhouse_url" if choice == "server" else "chdb_url"))
