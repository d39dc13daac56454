"""The unauthenticated GETs behind the links in SNS messages, as SNS serves them.

A subscriber follows these without AWS credentials, so they carry their own proof::

    GET /sns/confirm-subscription?TopicArn=..&Token=..   ConfirmByLink: the token is the credential
    GET /sns/unsubscribe?SubscriptionArn=..              UnsubscribeByLink: the ARN's random part is
    GET /sns/SimpleNotificationService-<fp>.pem          the signing certificate (public)

The first two answer SNS's query XML (``ConfirmSubscriptionResponse`` / ``UnsubscribeResponse``,
or an ``ErrorResponse``), as SNS does for the same links; the certificate is ``404`` under any
other name, so a URL names one certificate for good.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway import awsproto
from gateway.awsproto import Detected, Protocol
from gateway.calls import Backends
from gateway.connections import ConnectionGuard
from stackwatch import errors
from stackwatch.proto.alarm.v1 import notifications_pb2 as pb

CONFIRM_PATH = "/sns/confirm-subscription"
UNSUBSCRIBE_PATH = "/sns/unsubscribe"
CERTIFICATE_PATH = "/sns/{name:SimpleNotificationService-[0-9a-f]{32}\\.pem}"


def add_routes(app: web.Application, backends: Callable[[], Backends], guard: ConnectionGuard) -> None:
    """Register the three GETs on ``app`` (before its catch-all route)."""
    certificate: dict[str, bytes] = {}

    async def answer(request: web.Request, operation: str,
                     call: Callable[[], Awaitable[dict[str, str]]]) -> web.Response:
        guard.request_started(request.transport)
        request_id = str(uuid.uuid4())
        try:
            try:
                result = await call()
                detected = Detected(awsproto.SNS, Protocol.QUERY, operation)
                out = awsproto.serialize_response(detected, awsproto.SNS.operation_model(operation),
                                                  dict(result), request_id)
            except errors.ServiceError as e:
                out = awsproto.serialize_error(awsproto.SNS, Protocol.QUERY, e, request_id, operation)
            return web.Response(status=out.status, headers=out.headers, body=out.body)
        finally:
            guard.request_finished(request.transport)

    async def confirm(request: web.Request) -> web.Response:
        async def call() -> dict[str, str]:
            topic, token = request.query.get("TopicArn"), request.query.get("Token")
            if not topic or not token:
                raise errors.InvalidParameter(f"Invalid parameter: {'TopicArn' if not topic else 'Token'}")
            response: pb.ConfirmByLinkResponse = await backends().link(
                "ConfirmByLink", pb.ConfirmByLinkRequest(topic_arn=topic, token=token))
            return {"SubscriptionArn": response.subscription_arn}

        return await answer(request, "ConfirmSubscription", call)

    async def unsubscribe(request: web.Request) -> web.Response:
        async def call() -> dict[str, str]:
            arn = request.query.get("SubscriptionArn")
            if not arn:
                raise errors.InvalidParameter("Invalid parameter: SubscriptionArn")
            await backends().link("UnsubscribeByLink", pb.UnsubscribeByLinkRequest(subscription_arn=arn))
            return {}

        return await answer(request, "Unsubscribe", call)

    async def cert(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in certificate:
            try:
                response: pb.GetSigningCertificateResponse = await backends().link(
                    "GetSigningCertificate", pb.GetSigningCertificateRequest())
            except errors.ServiceError:
                return web.Response(status=503, text="The signing certificate is not available now.")
            certificate.clear()
            certificate[_name(response.pem)] = response.pem
        if name not in certificate:
            return web.Response(status=404, text="No such certificate.")
        return web.Response(body=certificate[name], content_type="application/x-pem-file")

    app.router.add_get(CONFIRM_PATH, confirm)
    app.router.add_get(UNSUBSCRIBE_PATH, unsubscribe)
    app.router.add_get(CERTIFICATE_PATH, cert)


def _name(pem: bytes) -> str:
    """The certificate's file name (as :attr:`services.alarm.signing.SigningKey.certificate_name`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    fingerprint = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()).hex()
    return f"SimpleNotificationService-{fingerprint[:32]}.pem"
