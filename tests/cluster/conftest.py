"""The local ClickHouse cluster: ZooKeeper plus 2 shards x 2 replicas of clickhouse-server.

``cluster`` (session) is a :class:`~stackwatch.store.testing.ClickHouseCluster` named
``stackwatch``, the same one ``scripts/cluster.sh up`` starts. Without ZooKeeper (Debian's
``zookeeper`` package; ``scripts/test.sh`` and ``scripts/cluster.sh`` install it) or when it cannot
start, the tests are skipped with the reason, unless ``CI`` is set, where that is a failure.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_driver import Client  # type: ignore[import-untyped]
from clickhouse_driver.errors import ServerException  # type: ignore[import-untyped]

from stackwatch.store.testing import ClickHouseCluster, ClickHouseServer, server_command, zookeeper_command
from tests.conftest import unavailable


def start_cluster(directory: Path, **options: Any) -> ClickHouseCluster:
    """ZooKeeper and a 2 x 2 cluster in ``directory`` (``options`` for :class:`ClickHouseCluster`), or skip/fail."""
    if server_command() is None:
        unavailable("clickhouse-server is not installed (apt-get install clickhouse-server)")
    if zookeeper_command() is None:
        unavailable("ZooKeeper is not installed (apt-get install zookeeper, or run scripts/cluster.sh up once)")
    c = ClickHouseCluster(directory, **options)
    try:
        c.zookeeper.start()
    except (RuntimeError, OSError) as e:
        unavailable(f"ZooKeeper does not start on this machine: {e}")
    try:
        c.start()
    except (RuntimeError, OSError) as e:
        pytest.fail(f"could not start the ClickHouse cluster: {e}")
    logging.getLogger("clickhouse_driver.connection").setLevel(logging.CRITICAL)
    return c


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseCluster]:
    """ZooKeeper and 2 x 2 clickhouse-server processes for this test process."""
    c = start_cluster(tmp_path_factory.mktemp("cluster"))
    yield c
    for client in _clients:  # 18.16 delays a SIGTERM shutdown while an idle client stays connected
        client.disconnect()
    c.stop()


_clients: list[Client] = []


def connect(server: ClickHouseServer, **settings: object) -> Client:
    """A driver client of ``server`` (short timeouts: a dead server must fail fast)."""
    client = Client("127.0.0.1", port=server.port, connect_timeout=2, send_receive_timeout=60,
                    sync_request_timeout=5, settings=settings)
    _clients.append(client)
    return client


@pytest.fixture
def cluster_db(cluster: ClickHouseCluster) -> Iterator[str]:
    """A database created ``ON CLUSTER`` for one test, dropped ``ON CLUSTER`` afterwards."""
    name = f"db_{uuid.uuid4().hex[:10]}"
    client = connect(cluster.server(1, 1))
    client.execute(f"CREATE DATABASE {name} ON CLUSTER {cluster.name}")
    yield name
    client = connect(cluster.server(1, 1))
    deadline = time.monotonic() + 30
    while True:  # after a ZooKeeper test, the servers' sessions take a few seconds to come back
        try:
            client.execute(f"DROP DATABASE IF EXISTS {name} ON CLUSTER {cluster.name}")
            break
        except ServerException as e:
            if e.code not in (225, 242, 999) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    client.disconnect()
