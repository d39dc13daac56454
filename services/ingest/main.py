"""Run the ingest service: open the store, start the group committer, serve gRPC."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from services.ingest.commit import GroupCommitter, ShardedCommitter, WalCommitter, WalRow
from services.ingest.domain import RetentionSchedule
from services.ingest.forward import forwarding
from services.ingest.servicer import IngestServicer, decode_record
from services.ingest.store import MetricStore
from services.ingest.wal import WriteAheadLog
from stackwatch.clock import Clock, SystemClock
from stackwatch.config import IngestSettings
from stackwatch.proto.auth.v1 import auth_pb2_grpc
from stackwatch.proto.metrics.v1 import metrics_pb2, metrics_pb2_grpc
from stackwatch.rpc import PrincipalVerifier, ServerHandle, TokenSigner, open_channel, serve
from stackwatch.store import AsyncEngine, StoreError, open_engine

LOG = logging.getLogger(__name__)
SERVICE_NAME = metrics_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name


#: Seconds between two runs of the retention job (partitions are a day or a month wide).
RETENTION_EVERY = 600.0


async def expire_periodically(store: MetricStore, schedule: RetentionSchedule, clock: Clock,
                              every: float = RETENTION_EVERY) -> None:
    """Drop expired partitions now and every ``every`` seconds (a failed run is logged and retried later)."""
    while True:
        try:
            await store.expire(clock.now(), schedule)
        except StoreError as e:
            LOG.warning("retention: expiry failed, will retry in %.0f s: %s", every, e)
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def running(settings: IngestSettings, internal_key: bytes,
                  clock: Clock | None = None) -> AsyncIterator[ServerHandle]:
    """Run the service for the duration of the context; yields the server handle (with its port)."""
    clock = clock or SystemClock()
    tokens = TokenSigner(internal_key, clock)  # refuses a bad key before anything touches the store
    engine = AsyncEngine(open_engine(settings.store_url), threads=settings.store_threads)
    schedule = RetentionSchedule.parse(settings.retention)  # a bad schedule stops the start here
    store = MetricStore(engine, settings.database, catalog_refresh=settings.catalog_refresh)
    await store.ensure_schema()
    committer: GroupCommitter | ShardedCommitter | WalCommitter
    limits: dict[str, Any] = {"max_rows": settings.batch_max_rows, "max_pending_rows": settings.max_pending_rows,
                              "min_interval": settings.commit_interval, "min_rows": settings.commit_rows}
    if settings.wal_dir:
        wal = WriteAheadLog(settings.wal_dir)

        async def write(rows: Sequence[WalRow], now: float) -> None:
            await store.insert(rows, now, wal.wal_id)

        async def present(first: int, last: int, since: int, shard: int | None) -> set[tuple[int, int]]:
            return await store.logged_rows(wal.wal_id, first, last, since, shard)

        async def repair(first: int, last: int, since: int, shard: int | None) -> int:
            return await store.repair_rollups(wal.wal_id, first, last, since, shard)

        committer = WalCommitter(wal, write, present, clock, read_wait=settings.read_wait, repair=repair,
                                 shards=store.shards, shard_of=store.shard_of,
                                 **{**limits, "min_interval": settings.apply_interval,
                                    "min_rows": settings.apply_rows})
        committer.recover(decode_record)
        LOG.info("ingest: write-ahead log %s (id %016x), %d records to apply", settings.wal_dir, wal.wal_id,
                 committer.replayed)
    elif store.shards > 1:  # a cluster: one group commit per shard (see ShardedCommitter)
        committer = ShardedCommitter([GroupCommitter(store.insert, clock, **limits) for _ in range(store.shards)],
                                     store.shard_of)
        LOG.info("ingest: one group commit per shard, %d shards", store.shards)
    else:
        committer = GroupCommitter(store.insert, clock, **limits)
    writer = asyncio.create_task(committer.run(), name="ingest-commit")
    expiry = asyncio.create_task(expire_periodically(store, schedule, clock), name="ingest-retention")
    auth_channel = open_channel(settings.auth_address)
    principals = PrincipalVerifier(tokens, auth_pb2_grpc.AuthServiceStub(auth_channel),
                                   SERVICE_NAME)
    forwards = forwarding(settings.alarm_address, tokens, clock)
    forwarder = await forwards.__aenter__()
    servicer = IngestServicer(store, committer, clock, principals, forwarder, schedule)
    handle = await serve(settings.bind, lambda s: metrics_pb2_grpc.add_IngestServiceServicer_to_server(servicer, s),
                         [SERVICE_NAME])
    try:
        yield handle
    finally:
        expiry.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await expiry
        await handle.stop(grace=5.0)
        await forwards.__aexit__(None, None, None)
        committer.close()
        await writer
        st = committer.stats
        LOG.info("ingest stopped: %d commits, %d rows, largest batch %d, write time mean %.1f ms, max %.1f ms",
                 st.commits, st.rows, st.largest_batch, 1000 * st.write_seconds / max(st.commits, 1),
                 1000 * st.slowest_write)
        engine.close()
        await auth_channel.close()
