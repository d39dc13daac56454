"""Calls from the gateway to the services: deadlines, principal metadata, retries, error mapping.

A :class:`Backends` holds one long-lived channel and stub per service. :class:`Call` is the view of
it an operation handler gets for one request: every RPC it makes carries the principal token the
auth service issued for the request in metadata and the configured deadline; idempotent calls are
retried on ``ServiceUnavailable`` by the policy in ``stackwatch.retry``; gRPC failures come back
as the AWS ``ServiceError`` the service raised (or ``ServiceUnavailable`` when the peer could not be reached).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from stackwatch import errors, retry
from stackwatch.proto.alarm.v1 import alarm_pb2_grpc, notifications_pb2_grpc
from stackwatch.proto.auth.v1 import auth_pb2, auth_pb2_grpc
from stackwatch.proto.autoscale.v1 import autoscale_pb2_grpc
from stackwatch.proto.metrics.v1 import metrics_pb2_grpc
from stackwatch.rpc import error_from_rpc, open_channel, principal_metadata


class Backends:
    """Channels and stubs to the services, opened once per gateway process."""

    def __init__(self, auth_address: str, ingest_address: str, timeout: float,
                 alarm_address: str = "127.0.0.1:50053", autoscale_address: str = "127.0.0.1:50054",
                 put_timeout: float | None = None) -> None:
        self.timeout = timeout
        #: The deadline of PutMetricData (see ``GatewaySettings.put_timeout``).
        self.put_timeout = put_timeout or timeout
        self._channels = [open_channel(auth_address), open_channel(ingest_address), open_channel(alarm_address),
                          open_channel(autoscale_address)]
        self.auth = auth_pb2_grpc.AuthServiceStub(self._channels[0])
        self.ingest = metrics_pb2_grpc.IngestServiceStub(self._channels[1])
        self.alarm = alarm_pb2_grpc.AlarmServiceStub(self._channels[2])
        self.autoscale = autoscale_pb2_grpc.AutoscaleServiceStub(self._channels[3])
        self.notifications = notifications_pb2_grpc.NotificationServiceStub(self._channels[2])

    async def authenticate(self, request: auth_pb2.AuthenticateRequest) -> auth_pb2.AuthenticateResponse:
        """Ask the auth service who signed the request (retried: it is a pure lookup)."""

        async def once() -> auth_pb2.AuthenticateResponse:
            try:
                response = await self.auth.Authenticate(request, timeout=self.timeout)
            except grpc.aio.AioRpcError as e:
                raise error_from_rpc(e) from None
            answer: auth_pb2.AuthenticateResponse = response
            return answer

        return await retry.idempotent(once, deadline=self.timeout)

    async def link(self, method: str, request: Any) -> Any:
        """Call ``NotificationService/<method>`` with no principal: the SNS links and the certificate."""

        async def once() -> Any:
            try:
                return await getattr(self.notifications, method)(request, timeout=self.timeout)
            except grpc.aio.AioRpcError as e:
                raise error_from_rpc(e) from None

        return await retry.idempotent(once, deadline=self.timeout)

    async def close(self) -> None:
        """Close every channel."""
        for ch in self._channels:
            await ch.close()


@dataclass(frozen=True, slots=True)
class Call:
    """The backends as seen by one authenticated request."""

    backends: Backends
    principal: auth_pb2.Principal
    token: str

    async def ingest(self, method: str, request: Any, *, idempotent: bool = True,
                     timeout: float | None = None) -> Any:
        """Call ``IngestService/<method>`` for this principal (deadline: ``timeout`` or the backends' own)."""
        return await self._call(getattr(self.backends.ingest, method), request, idempotent, timeout)

    async def alarm(self, method: str, request: Any, *, idempotent: bool = True) -> Any:
        """Call ``AlarmService/<method>`` for this principal."""
        return await self._call(getattr(self.backends.alarm, method), request, idempotent)

    async def autoscale(self, method: str, request: Any, *, idempotent: bool = True) -> Any:
        """Call ``AutoscaleService/<method>`` for this principal."""
        return await self._call(getattr(self.backends.autoscale, method), request, idempotent)
    async def notifications(self, method: str, request: Any, *, idempotent: bool = True) -> Any:
        """Call ``NotificationService/<method>`` (SNS topics, served by the alarm process) for this principal."""
        return await self._call(getattr(self.backends.notifications, method), request, idempotent)

    async def _call(self, stub_method: Any, request: Any, idempotent: bool, timeout: float | None = None) -> Any:
        metadata = principal_metadata(self.token)
        deadline = timeout or self.backends.timeout

        async def once() -> Any:
            try:
                return await stub_method(request, timeout=deadline, metadata=metadata)
            except grpc.aio.AioRpcError as e:
                raise error_from_rpc(e) from None

        if not idempotent:
            return await once()
        return await retry.idempotent(once, deadline=deadline)


__all__ = ["Backends", "Call", "errors"]
