"""Run the autoscale service: open its store, serve AutoscaleService over gRPC, run the reconcilers.

Callers (the gateway for the Auto Scaling API, the alarm service for alarm actions) send a
principal token signed with the internal key; the service verifies it locally (no auth service
call: it accepts no API-key signatures) and acts for the account it names.

With ``STACKWATCH_AUTOSCALE_CLOUDSTACK_URL`` (and the service account's keys) set, every group's
VMs are converged by :mod:`services.autoscale.runner` (one reconciler per group, CloudStack
actuator); without it only webhook groups run, and VM groups keep their desired capacity on paper.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from services.autoscale.actuators import CloudStackActuator
from services.autoscale.alarms import PolicyAlarms
from services.autoscale.runner import GroupRunners
from services.autoscale.servicer import AutoscaleServicer
from services.autoscale.store import AutoscaleStore
from stackwatch import errors
from stackwatch.clock import Clock, SystemClock
from stackwatch.cloudstack import CloudStackClient
from stackwatch.config import AutoscaleSettings
from stackwatch.proto.alarm.v1 import alarm_pb2_grpc
from stackwatch.proto.autoscale.v1 import autoscale_pb2, autoscale_pb2_grpc
from stackwatch.rpc import PrincipalVerifier, ServerHandle, TokenSigner, open_channel, serve
from stackwatch.store import AsyncEngine, open_engine

LOG = logging.getLogger(__name__)
SERVICE_NAME = autoscale_pb2.DESCRIPTOR.services_by_name["AutoscaleService"].full_name


@dataclass(frozen=True, slots=True)
class AutoscaleHandle:
    """The running service: its gRPC server and its reconcilers."""

    server: ServerHandle
    runners: GroupRunners

    @property
    def port(self) -> int:
        """The bound gRPC port."""
        return self.server.port


@contextlib.asynccontextmanager
async def running(settings: AutoscaleSettings, internal_key: bytes,
                  clock: Clock | None = None) -> AsyncIterator[AutoscaleHandle]:
    """Run the service for the duration of the context; yields the server handle (with its port)."""
    clock = clock or SystemClock()
    tokens = TokenSigner(internal_key, clock)  # refuses a bad key before anything touches the store
    async with contextlib.AsyncExitStack() as stack:
        engine = AsyncEngine(open_engine(settings.store_url), threads=settings.store_threads)
        stack.callback(engine.close)
        store = AutoscaleStore(engine, settings.database)
        await store.ensure_schema()
        stack.push_async_callback(store.close)  # after the runners stop: their last rows are written
        actuator = None
        if settings.cloudstack_url:
            if not settings.cloudstack_api_key:
                raise errors.StackWatchError("STACKWATCH_AUTOSCALE_CLOUDSTACK_URL is set but "
                                             "STACKWATCH_AUTOSCALE_CLOUDSTACK_API_KEY is not")
            client = await stack.enter_async_context(CloudStackClient(
                settings.cloudstack_url, settings.cloudstack_api_key, settings.cloudstack_secret(),
                timeout=settings.cloudstack_timeout, job_poll=settings.cloudstack_job_poll,
                job_timeout=settings.cloudstack_job_timeout, clock=clock))
            actuator = CloudStackActuator(client)
            LOG.info("groups run their VMs in CloudStack at %s", settings.cloudstack_url)
        runners = GroupRunners(store, actuator, interval=settings.reconcile_interval,
                               settle_interval=settings.settle_interval, scan_interval=settings.scan_interval,
                               clock=clock.now)
        alarms = None
        if settings.alarm_address:
            channel = open_channel(settings.alarm_address)
            stack.push_async_callback(channel.close)
            alarms = PolicyAlarms(alarm_pb2_grpc.AlarmServiceStub(channel), tokens,
                                  period=settings.target_tracking_period, timeout=settings.rpc_timeout)
        servicer = AutoscaleServicer(store, clock, PrincipalVerifier(tokens, None, SERVICE_NAME), settings.region,
                                     changed=runners.changed, alarms=alarms)
        handle = await serve(
            settings.bind, lambda s: autoscale_pb2_grpc.add_AutoscaleServiceServicer_to_server(servicer, s),
            [SERVICE_NAME])
        stack.push_async_callback(handle.stop, 5.0)
        await runners.start()
        stack.push_async_callback(runners.stop)
        yield AutoscaleHandle(handle, runners)
