"""One replica SIGKILLed on the local 2 x 2 cluster: what 18.16 does (facts in docs/cluster-notes.md).

Reads through the Distributed table go on; a quorum insert on the crippled shard fails with a clean
error within ``insert_quorum_timeout`` (code 319 while ZooKeeper still thinks the dead replica is
active, then 286 for the next insert, then 285 once its session expires); the other shard is
unaffected; the restarted replica catches up, and the retry of the "unknown status" block is
deduplicated.
"""

from __future__ import annotations

import time

import pytest
from clickhouse_driver.errors import ServerException  # type: ignore[import-untyped]

from .conftest import connect
from .schema import create, insert, rows

pytestmark = pytest.mark.cluster

QUORUM = {"insert_quorum": 2, "insert_quorum_timeout": 2_000}


def _timed_failure(fn, *args, **kwargs) -> tuple[ServerException, float]:
    started = time.monotonic()
    with pytest.raises(ServerException) as e:
        fn(*args, **kwargs)
    return e.value, time.monotonic() - started


def test_a_killed_replica_costs_no_reads_fails_quorum_inserts_cleanly_and_catches_up(cluster, cluster_db):
    create(cluster, cluster_db)
    series = [f"AWS/EC2|CPUUtilization|i-{i:04d}" for i in range(50)]
    insert(connect(cluster.server(2, 1)), f"{cluster_db}.t_all", [r for s in series for r in rows(s, 20)],
           insert_distributed_sync=1, **QUORUM)
    r1 = connect(cluster.server(1, 1))
    shard2 = connect(cluster.server(2, 2))
    victim = cluster.server(1, 2)
    victim.kill()
    try:
        for server in (cluster.server(1, 1), cluster.server(2, 1), cluster.server(2, 2)):
            started = time.monotonic()
            assert connect(server).execute(f"SELECT count() FROM {cluster_db}.t_all") == [(1000,)]
            assert time.monotonic() - started < 2  # the dead replica's refused connection fails over at once

        # ZooKeeper still holds the dead replica's "is_active" node until its session expires: the
        # insert is written on replica 1 and waits for the quorum until insert_quorum_timeout.
        block = rows("quorum-during-outage", 10)
        err, took = _timed_failure(insert, r1, f"{cluster_db}.t", block, **QUORUM)
        assert err.code == 319 and "Unknown status, client must retry" in err.message
        assert "Timeout while waiting for quorum" in err.message
        assert 1.5 < took < 6
        # The unsatisfied quorum blocks every later quorum insert on the shard, at once.
        err, took = _timed_failure(insert, r1, f"{cluster_db}.t", rows("next", 10), **QUORUM)
        assert err.code == 286 and "Quorum for previous write has not been satisfied yet" in err.message
        assert took < 1
        # The other shard is unaffected.
        insert(shard2, f"{cluster_db}.t", rows("shard-2-during-outage", 10), **QUORUM)

        deadline = time.monotonic() + 30  # session_timeout_ms is 10 s in the fixture
        while r1.execute(f"SELECT active_replicas FROM system.replicas WHERE database = '{cluster_db}'") != [(1,)]:
            assert time.monotonic() < deadline, "the dead replica stayed active in ZooKeeper"
            time.sleep(0.5)
        err, took = _timed_failure(insert, r1, f"{cluster_db}.t", rows("after-expiry", 10), **QUORUM)
        assert err.code == 285 and "Number of alive replicas (1) is less than requested quorum (2)" in err.message
        assert took < 1
        insert(r1, f"{cluster_db}.t", rows("no-quorum", 10))  # without a quorum the live replica takes it
    finally:
        victim.start()

    r2 = connect(victim)
    r2.execute(f"SYSTEM SYNC REPLICA {cluster_db}.t")
    assert r2.execute(f"SELECT series, count() FROM {cluster_db}.t GROUP BY series ORDER BY series") == \
        r1.execute(f"SELECT series, count() FROM {cluster_db}.t GROUP BY series ORDER BY series")
    # The 319 block was kept on replica 1 and is now on both; its retry is deduplicated.
    assert r1.execute(f"SELECT count() FROM {cluster_db}.t WHERE series = 'quorum-during-outage'") == [(10,)]
    insert(r1, f"{cluster_db}.t", block, **QUORUM)
    assert r2.execute(f"SELECT count() FROM {cluster_db}.t WHERE series = 'quorum-during-outage'") == [(10,)]
    insert(r1, f"{cluster_db}.t", rows("after-restart", 10), **QUORUM)  # quorum inserts work again
    # The refused inserts (286, 285) wrote nothing; the rest is there once through Distributed.
    assert r2.execute(f"SELECT count() FROM {cluster_db}.t WHERE series IN ('next', 'after-expiry')") == [(0,)]
    assert r2.execute(f"SELECT count() FROM {cluster_db}.t_all") == [(1000 + 4 * 10,)]
