"""ClickHouse 18.16's cluster machinery on the local 2 x 2 cluster.

ON CLUSTER DDL, Distributed sharding, insert_quorum and block deduplication; the facts are in
docs/cluster-notes.md.
"""

from __future__ import annotations

import time

import pytest
from clickhouse_driver.errors import ServerException  # type: ignore[import-untyped]

from .conftest import connect
from .schema import create, insert, local_counts, rows, shard_of

pytestmark = pytest.mark.cluster


def test_on_cluster_ddl_creates_both_tables_on_every_server(cluster, cluster_db):
    create(cluster, cluster_db)
    for s in range(1, 3):
        for r in range(1, 3):
            c = connect(cluster.server(s, r))
            assert c.execute(f"SELECT name, engine FROM system.tables WHERE database = '{cluster_db}' ORDER BY name") \
                == [("t", "ReplicatedMergeTree"), ("t_all", "Distributed")]
            (path, name, total, active), = c.execute(
                f"SELECT zookeeper_path, replica_name, total_replicas, active_replicas FROM system.replicas "
                f"WHERE database = '{cluster_db}'")
            assert (path, name, total, active) == (f"/clickhouse/tables/{s}/{cluster_db}/t", f"r{r}", 2, 2)


def test_on_cluster_ddl_is_idempotent_with_if_not_exists(cluster, cluster_db):
    create(cluster, cluster_db)
    c = connect(cluster.server(2, 2))
    with pytest.raises(ServerException) as e:  # without IF NOT EXISTS the second run fails on every host
        c.execute(f"CREATE TABLE {cluster_db}.t ON CLUSTER {cluster.name} AS {cluster_db}.t_all ENGINE = Memory")
    assert e.value.code == 57  # TABLE_ALREADY_EXISTS, reported back through the DDL queue
    c.execute(f"CREATE TABLE IF NOT EXISTS {cluster_db}.t ON CLUSTER {cluster.name} AS {cluster_db}.t_all "
              f"ENGINE = Memory")
    assert c.execute(f"SELECT engine FROM system.tables WHERE database = '{cluster_db}' AND name = 't'") == \
        [("ReplicatedMergeTree",)]


def test_distributed_insert_lands_on_the_shard_the_key_picks_and_reads_back_once(cluster, cluster_db):
    create(cluster, cluster_db)
    c = connect(cluster.server(2, 1))
    series = [f"AWS/EC2|CPUUtilization|i-{i:04d}" for i in range(20)]
    owner = {s: shard_of(c, s) for s in series}
    assert set(owner.values()) == {1, 2}  # 20 series do not all hash to one shard
    # insert_distributed_sync=1: the INSERT returns once every shard has its part (default 0 queues it).
    insert(c, f"{cluster_db}.t_all", [r for s in series for r in rows(s, 10)], insert_distributed_sync=1)
    for s in (1, 2):
        for r in (1, 2):
            connect(cluster.server(s, r)).execute(f"SYSTEM SYNC REPLICA {cluster_db}.t")
    counts = local_counts(cluster, cluster_db)
    for (shard, _replica), per_series in counts.items():
        assert per_series == {s: 10 for s in series if owner[s] == shard}
    for server in cluster.servers:  # any server's Distributed table reads each row once (one replica per shard)
        assert connect(server).execute(
            f"SELECT count(), uniqExact(series), sum(v) FROM {cluster_db}.t_all") == [(200, 20, 20 * 45.0)]


def test_distributed_insert_is_asynchronous_by_default(cluster, cluster_db):
    create(cluster, cluster_db)
    c = connect(cluster.server(1, 1))
    # Queued as a file in the Distributed table's directory and sent by a background monitor
    # (every distributed_directory_monitor_sleep_time_ms = 100 ms). 18.16 has no SYSTEM FLUSH DISTRIBUTED.
    started = time.monotonic()
    insert(c, f"{cluster_db}.t_all", rows("async-series", 5))
    while c.execute(f"SELECT count() FROM {cluster_db}.t_all") != [(5,)]:
        assert time.monotonic() - started < 10, "the queued Distributed insert never arrived"
        time.sleep(0.05)
    print(f"async Distributed insert visible after {time.monotonic() - started:.2f} s")


def test_quorum_insert_is_acknowledged_only_when_both_replicas_have_it(cluster, cluster_db):
    create(cluster, cluster_db)
    r1, r2 = connect(cluster.server(1, 1)), connect(cluster.server(1, 2))
    for batch in range(5):
        insert(r1, f"{cluster_db}.t", rows("quorum-series", 100, start=batch * 100), insert_quorum=2,
               insert_quorum_timeout=10_000)
        # No SYNC REPLICA: the acknowledgement itself means replica 2 has the part.
        assert r2.execute(f"SELECT count() FROM {cluster_db}.t") == [((batch + 1) * 100,)]
    # select_sequential_consistency=1 reads only quorum-acknowledged parts.
    assert r2.execute(f"SELECT count() FROM {cluster_db}.t", settings={"select_sequential_consistency": 1}) == \
        [(500,)]


def test_a_retried_identical_block_is_deduplicated_and_a_different_one_is_not(cluster, cluster_db):
    create(cluster, cluster_db)
    r1, r2 = connect(cluster.server(2, 1)), connect(cluster.server(2, 2))
    block = rows("dedup-series", 50)
    insert(r1, f"{cluster_db}.t", block, insert_quorum=2)
    insert(r1, f"{cluster_db}.t", block, insert_quorum=2)  # the retry, to the same replica
    insert(r2, f"{cluster_db}.t", block, insert_quorum=2)  # the retry, to the other replica
    assert r1.execute(f"SELECT count() FROM {cluster_db}.t") == [(50,)]
    changed = [*block[:-1], (block[-1][0], block[-1][1], -1.0)]  # one value differs: a new block
    insert(r2, f"{cluster_db}.t", changed, insert_quorum=2)
    assert r1.execute(f"SELECT count() FROM {cluster_db}.t") == [(100,)]


def test_a_retried_block_through_distributed_is_deduplicated_per_shard(cluster, cluster_db):
    create(cluster, cluster_db)
    c = connect(cluster.server(1, 2))
    block = [r for i in range(10) for r in rows(f"series-{i}", 20)]
    # insert_quorum=2 reaches the shards too: the read below may go to either replica of a shard.
    for _ in range(3):
        insert(c, f"{cluster_db}.t_all", block, insert_distributed_sync=1, insert_quorum=2)
    assert c.execute(f"SELECT count() FROM {cluster_db}.t_all") == [(200,)]
    # The block id hashes the part as written (sorted by the table's key): the same rows in another
    # order are the same part, so they are dropped too.
    insert(c, f"{cluster_db}.t_all", block[::-1], insert_distributed_sync=1, insert_quorum=2)
    assert c.execute(f"SELECT count() FROM {cluster_db}.t_all") == [(200,)]
    # One more row changes the part of that row's shard only: only that shard takes the block.
    extra = rows("series-0", 1, start=20)
    insert(c, f"{cluster_db}.t_all", block + extra, insert_distributed_sync=1, insert_quorum=2)
    per_shard = {s: n for s, n in c.execute(
        f"SELECT cityHash64(series) % 2 + 1 AS shard, count() FROM {cluster_db}.t_all GROUP BY shard")}
    owner = shard_of(c, "series-0")
    expected = {s: sum(1 for r in block if shard_of(c, r[0]) == s) for s in (1, 2)}
    expected[owner] = 2 * expected[owner] + 1
    assert per_shard == expected
