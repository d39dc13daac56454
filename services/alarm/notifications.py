"""The NotificationService servicer: SNS's topic and subscription calls for alarm actions.

Thin, like :mod:`services.alarm.servicer`: each RPC verifies the principal (except the three link
calls the gateway makes for unauthenticated GETs), checks that a topic ARN names the caller's
account and this region, and reads or writes :class:`~services.alarm.topics.NotificationStore`.
Errors are SNS's: ``InvalidParameter`` (``Invalid parameter: <what>``), ``NotFound``,
``AuthorizationError`` for another account's topic, whether it exists or not.

Subscribe answers at once and sends the SubscriptionConfirmation in the background (retried like
any delivery, not kept across a restart: a subscriber that missed it subscribes again, which
re-sends it, as SNS does for a pending subscription).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from typing import Any, TypeAlias

import grpc

from services.alarm import messages
from services.alarm.delivery import HttpPoster, RetryPolicy, with_retries
from services.alarm.signing import DEFAULT_SIGNATURE_VERSION, SigningKey
from services.alarm.topics import NotificationStore, StoredSubscription, Topic
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.proto.alarm.v1 import notifications_pb2 as pb
from stackwatch.proto.alarm.v1 import notifications_pb2_grpc
from stackwatch.rpc import PrincipalVerifier, servicer_errors
from stackwatch.tenancy import Tenant

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_PROTOCOLS = ("http", "https")
_SNS_PROTOCOLS = ("email", "email-json", "sms", "sqs", "application", "lambda", "firehose")
_ATTRIBUTES = ("DisplayName", "SignatureVersion")
PAGE = 100
PENDING_ARN = "pending confirmation"
PENDING_LISTED = "PendingConfirmation"


def invalid(what: str) -> errors.ServiceError:
    """SNS's ``InvalidParameter`` error, worded as SNS words it."""
    return errors.InvalidParameter(f"Invalid parameter: {what}")


def parse_topic_arn(text: str, region: str) -> tuple[str, str]:
    """``(account number, topic name)`` of a topic ARN of ``region``.

    Raises:
        InvalidParameter: not ``arn:aws:sns:<region>:<12 digits>:<name>``.
    """
    parts = text.split(":")
    if (len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"] or parts[3] != region
            or not re.fullmatch(r"\d{12}", parts[4]) or not _TOPIC_NAME.match(parts[5])):
        raise invalid("TopicArn")
    return parts[4], parts[5]


def check_attributes(attributes: dict[str, str]) -> dict[str, str]:
    """The topic attributes StackWatch keeps, validated (SignatureVersion 1 or 2)."""
    kept = {k: v for k, v in attributes.items() if k in _ATTRIBUTES}
    if kept.get("SignatureVersion", DEFAULT_SIGNATURE_VERSION) not in ("1", "2"):
        raise invalid("Attributes Reason: SignatureVersion must be 1 or 2")
    return kept


def _position(tenant: Tenant, token: str) -> list[Any]:
    try:
        return tenant.read_page_token(token)
    except errors.InvalidNextToken:
        raise invalid("NextToken") from None


class NotificationServicer(notifications_pb2_grpc.NotificationServiceServicer):
    """Serves NotificationService over :class:`NotificationStore`.

    Args:
        store: topics and subscriptions.
        principals: verifies who each call acts for.
        clock: the service clock.
        region: the region topic ARNs name.
        key: signs SubscriptionConfirmation messages.
        links: the URLs messages carry.
        post: sends them.
        policy: how confirmations are retried.
    """

    def __init__(self, store: NotificationStore, principals: PrincipalVerifier, clock: Clock, region: str,
                 key: SigningKey, links: messages.Links, post: HttpPoster, policy: RetryPolicy) -> None:
        self._store, self._principals, self._clock, self._region = store, principals, clock, region
        self._key, self._links, self._post, self._policy = key, links, post, policy
        self._sending: set[asyncio.Task[None]] = set()

    async def _tenant(self, context: Context, request: Any, method: str) -> Tenant:
        return Tenant.of(await self._principals.require(context, request, method))

    def _own(self, tenant: Tenant, arn: str, action: str) -> str:
        number, name = parse_topic_arn(arn, self._region)
        if number != tenant.account_number:
            raise errors.AuthorizationError(
                f"User: {tenant.user or tenant.account_number} is not authorized to perform: SNS:{action} "
                f"on resource: {arn}")
        return name

    async def _topic(self, tenant: Tenant, arn: str, action: str) -> Topic:
        name = self._own(tenant, arn, action)
        found = await self._store.topics(tenant.account_id, name=name)
        if not found:
            raise errors.NotFound("Topic does not exist")
        return found[0]

    @servicer_errors
    async def CreateTopic(self, request: pb.CreateTopicRequest, context: Context) -> pb.CreateTopicResponse:
        """Create the topic, or answer the ARN of the one of that name (same attributes only)."""
        tenant = await self._tenant(context, request, "CreateTopic")
        if not _TOPIC_NAME.match(request.name):
            raise invalid("Topic Name")
        attributes = check_attributes(dict(request.attributes))
        found = await self._store.topics(tenant.account_id, name=request.name)
        if found:
            if attributes and any(found[0].attributes.get(k) != v for k, v in attributes.items()):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            return pb.CreateTopicResponse(topic_arn=found[0].arn)
        arn = f"arn:aws:sns:{self._region}:{tenant.account_number}:{request.name}"
        await self._store.put_topic(Topic(tenant.account_id, request.name, arn, attributes), self._clock.now())
        return pb.CreateTopicResponse(topic_arn=arn)

    @servicer_errors
    async def DeleteTopic(self, request: pb.DeleteTopicRequest, context: Context) -> pb.DeleteTopicResponse:
        """Delete the topic and its subscriptions (a missing topic is no error, as in SNS)."""
        tenant = await self._tenant(context, request, "DeleteTopic")
        name = self._own(tenant, request.topic_arn, "DeleteTopic")
        if await self._store.topics(tenant.account_id, name=name):
            await self._store.delete_topic(tenant.account_id, name, self._clock.now())
        return pb.DeleteTopicResponse()

    @servicer_errors
    async def ListTopics(self, request: pb.ListTopicsRequest, context: Context) -> pb.ListTopicsResponse:
        """One page of the caller's topics."""
        tenant = await self._tenant(context, request, "ListTopics")
        after = None
        if request.HasField("next_token"):
            position = _position(tenant, request.next_token)
            if len(position) != 1 or not isinstance(position[0], str):
                raise invalid("NextToken")
            after = position[0]
        topics = await self._store.topics(tenant.account_id, after=after, limit=PAGE + 1)
        out = pb.ListTopicsResponse(topic_arns=[t.arn for t in topics[:PAGE]])
        if len(topics) > PAGE:
            out.next_token = tenant.page_token([topics[PAGE - 1].name])
        return out

    @servicer_errors
    async def GetTopicAttributes(self, request: pb.GetTopicAttributesRequest,
                                 context: Context) -> pb.GetTopicAttributesResponse:
        """The attributes StackWatch keeps, with subscription counts."""
        tenant = await self._tenant(context, request, "GetTopicAttributes")
        topic = await self._topic(tenant, request.topic_arn, "GetTopicAttributes")
        subs = await self._store.subscriptions(tenant.account_id, topic=topic.name)
        confirmed = sum(s.confirmed for s in subs)
        attributes = {"TopicArn": topic.arn, "Owner": tenant.account_number,
                      "DisplayName": topic.attributes.get("DisplayName", ""),
                      "SignatureVersion": topic.attributes.get("SignatureVersion", DEFAULT_SIGNATURE_VERSION),
                      "SubscriptionsConfirmed": str(confirmed), "SubscriptionsPending": str(len(subs) - confirmed),
                      "SubscriptionsDeleted": "0"}
        return pb.GetTopicAttributesResponse(attributes=attributes)

    @servicer_errors
    async def Subscribe(self, request: pb.SubscribeRequest, context: Context) -> pb.SubscribeResponse:
        """Subscribe an http/https endpoint and send it the confirmation."""
        tenant = await self._tenant(context, request, "Subscribe")
        protocol = request.protocol.lower()
        if protocol not in _PROTOCOLS:
            if protocol in _SNS_PROTOCOLS:
                raise invalid(f"StackWatch delivers to http and https endpoints only, not {protocol}")
            raise invalid(f"Amazon SNS does not support this protocol string: {request.protocol}")
        if not request.endpoint.lower().startswith(f"{protocol}://") or len(request.endpoint) <= len(protocol) + 3:
            raise invalid("Endpoint must match the specified protocol")
        topic = await self._topic(tenant, request.topic_arn, "Subscribe")
        existing = [s for s in await self._store.subscriptions(tenant.account_id, topic=topic.name)
                    if (s.protocol, s.endpoint) == (protocol, request.endpoint)]
        if existing and existing[0].confirmed:
            return pb.SubscribeResponse(subscription_arn=existing[0].arn)
        now = self._clock.now()
        if existing:
            sub = existing[0]
        else:
            sid = str(uuid.uuid4())
            sub = StoredSubscription(tenant.account_id, topic.name, sid, f"{topic.arn}:{sid}", topic.arn, protocol,
                                     request.endpoint, secrets.token_hex(64), False, round(now * 1000))
            await self._store.put_subscription(sub, now)
        self._send_confirmation(topic, sub, now)
        return pb.SubscribeResponse(subscription_arn=sub.arn if request.return_subscription_arn else PENDING_ARN)

    def _send_confirmation(self, topic: Topic, sub: StoredSubscription, now: float) -> None:
        envelope = messages.subscription_confirmation(
            topic_arn=topic.arn, token=sub.token, message_id=str(uuid.uuid4()), epoch_ms=round(now * 1000),
            key=self._key, version=topic.attributes.get("SignatureVersion", DEFAULT_SIGNATURE_VERSION),
            links=self._links)

        async def send() -> None:
            await with_retries(lambda: self._post(sub.endpoint, envelope), self._policy)

        task = asyncio.create_task(send(), name=f"confirm-{sub.id[:8]}")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _confirm(self, account: str | None, topic_arn: str, token: str) -> str:
        subs = [s for s in await self._store.subscriptions(account, topic_arn=topic_arn)
                if secrets.compare_digest(s.token, token)]
        if not subs:
            raise invalid("Token")
        sub = subs[0]
        if not sub.confirmed:
            await self._store.put_subscription(
                StoredSubscription(sub.account, sub.topic, sub.id, sub.arn, sub.topic_arn, sub.protocol,
                                   sub.endpoint, sub.token, True, sub.created_ms), self._clock.now())
        return sub.arn

    @servicer_errors
    async def ConfirmSubscription(self, request: pb.ConfirmSubscriptionRequest,
                                  context: Context) -> pb.ConfirmSubscriptionResponse:
        """Confirm the caller's pending subscription whose token this is."""
        tenant = await self._tenant(context, request, "ConfirmSubscription")
        await self._topic(tenant, request.topic_arn, "ConfirmSubscription")
        return pb.ConfirmSubscriptionResponse(
            subscription_arn=await self._confirm(tenant.account_id, request.topic_arn, request.token))

    @servicer_errors
    async def ConfirmByLink(self, request: pb.ConfirmByLinkRequest, context: Context) -> pb.ConfirmByLinkResponse:
        """Confirm through the SubscribeURL: the token is the credential."""
        parse_topic_arn(request.topic_arn, self._region)
        if not request.token:
            raise invalid("Token")
        return pb.ConfirmByLinkResponse(subscription_arn=await self._confirm(None, request.topic_arn, request.token))

    async def _subscription(self, account: str | None, arn: str) -> StoredSubscription:
        topic_arn, _, sid = arn.rpartition(":")
        parse_topic_arn(topic_arn, self._region)
        try:
            uuid.UUID(sid)
        except ValueError:
            raise invalid("SubscriptionArn") from None
        found = await self._store.subscriptions(account, topic_arn=topic_arn, arn=arn)
        if not found:
            raise errors.NotFound("Subscription does not exist")
        return found[0]

    @servicer_errors
    async def Unsubscribe(self, request: pb.UnsubscribeRequest, context: Context) -> pb.UnsubscribeResponse:
        """Delete one of the caller's subscriptions."""
        tenant = await self._tenant(context, request, "Unsubscribe")
        self._own(tenant, request.subscription_arn.rpartition(":")[0], "Unsubscribe")
        sub = await self._subscription(tenant.account_id, request.subscription_arn)
        await self._store.delete_subscription(sub, self._clock.now())
        return pb.UnsubscribeResponse()

    @servicer_errors
    async def UnsubscribeByLink(self, request: pb.UnsubscribeByLinkRequest,
                                context: Context) -> pb.UnsubscribeByLinkResponse:
        """Delete a subscription through its UnsubscribeURL: the ARN's random part is the credential."""
        sub = await self._subscription(None, request.subscription_arn)
        await self._store.delete_subscription(sub, self._clock.now())
        return pb.UnsubscribeByLinkResponse()

    @servicer_errors
    async def ListSubscriptions(self, request: pb.ListSubscriptionsRequest,
                                context: Context) -> pb.ListSubscriptionsResponse:
        """One page of the caller's subscriptions (of one topic, or all)."""
        tenant = await self._tenant(context, request, "ListSubscriptions")
        topic = None
        if request.topic_arn:
            topic = (await self._topic(tenant, request.topic_arn, "ListSubscriptionsByTopic")).name
        after = None
        if request.HasField("next_token"):
            position = _position(tenant, request.next_token)
            if len(position) != 3:
                raise invalid("NextToken")
            after = (str(position[0]), int(position[1]), str(position[2]))
        subs = await self._store.subscriptions(tenant.account_id, topic=topic, after=after, limit=PAGE + 1)
        out = pb.ListSubscriptionsResponse(subscriptions=[pb.Subscription(
            subscription_arn=s.arn if s.confirmed else PENDING_LISTED, owner=tenant.account_number,
            protocol=s.protocol, endpoint=s.endpoint, topic_arn=s.topic_arn) for s in subs[:PAGE]])
        if len(subs) > PAGE:
            last = subs[PAGE - 1]
            out.next_token = tenant.page_token([last.topic, last.created_ms, last.id])
        return out

    @servicer_errors
    async def GetSigningCertificate(self, request: pb.GetSigningCertificateRequest,
                                    context: Context) -> pb.GetSigningCertificateResponse:
        """The signing certificate (public)."""
        return pb.GetSigningCertificateResponse(pem=self._key.certificate_pem)

    async def close(self) -> None:
        """Stop sending confirmations still under way."""
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
