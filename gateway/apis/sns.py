"""SNS's topic and subscription operations: AWS params -> notifications proto -> NotificationService -> result.

The minimal SNS API alarm actions need (http/https subscriptions only), in the same shape as
:mod:`gateway.apis.alarms`: one small entry per operation, no validation or semantics here (the
alarm process's :mod:`services.alarm.notifications` holds those). SNS speaks the query protocol
only; ``gateway.app`` routes the ``sns`` signing name here, and serves the three unauthenticated
links SNS messages carry (:data:`LINKS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gateway.calls import Call
from stackwatch.proto.alarm.v1 import notifications_pb2 as pb

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Call, Params], Awaitable[Result]]


def _page(result: Result, response: Any) -> Result:
    if response.HasField("next_token"):
        result["NextToken"] = response.next_token
    return result


async def create_topic(call: Call, p: Params) -> Result:
    """CreateTopic (idempotent by name)."""
    response: pb.CreateTopicResponse = await call.notifications(
        "CreateTopic", pb.CreateTopicRequest(name=p["Name"], attributes=p.get("Attributes", {})))
    return {"TopicArn": response.topic_arn}


async def delete_topic(call: Call, p: Params) -> Result:
    """DeleteTopic."""
    await call.notifications("DeleteTopic", pb.DeleteTopicRequest(topic_arn=p["TopicArn"]))
    return {}


async def list_topics(call: Call, p: Params) -> Result:
    """ListTopics."""
    request = pb.ListTopicsRequest()
    if "NextToken" in p:
        request.next_token = p["NextToken"]
    response: pb.ListTopicsResponse = await call.notifications("ListTopics", request)
    return _page({"Topics": [{"TopicArn": arn} for arn in response.topic_arns]}, response)


async def get_topic_attributes(call: Call, p: Params) -> Result:
    """GetTopicAttributes."""
    response: pb.GetTopicAttributesResponse = await call.notifications(
        "GetTopicAttributes", pb.GetTopicAttributesRequest(topic_arn=p["TopicArn"]))
    return {"Attributes": dict(response.attributes)}


async def subscribe(call: Call, p: Params) -> Result:
    """Subscribe (http/https)."""
    response: pb.SubscribeResponse = await call.notifications("Subscribe", pb.SubscribeRequest(
        topic_arn=p["TopicArn"], protocol=p["Protocol"], endpoint=p.get("Endpoint", ""),
        return_subscription_arn=bool(p.get("ReturnSubscriptionArn", False))), idempotent=False)
    return {"SubscriptionArn": response.subscription_arn}


async def confirm_subscription(call: Call, p: Params) -> Result:
    """ConfirmSubscription."""
    response: pb.ConfirmSubscriptionResponse = await call.notifications(
        "ConfirmSubscription", pb.ConfirmSubscriptionRequest(topic_arn=p["TopicArn"], token=p["Token"]))
    return {"SubscriptionArn": response.subscription_arn}


async def unsubscribe(call: Call, p: Params) -> Result:
    """Unsubscribe."""
    await call.notifications("Unsubscribe", pb.UnsubscribeRequest(subscription_arn=p["SubscriptionArn"]))
    return {}


def _subscriptions(response: pb.ListSubscriptionsResponse) -> Result:
    return _page({"Subscriptions": [
        {"SubscriptionArn": s.subscription_arn, "Owner": s.owner, "Protocol": s.protocol, "Endpoint": s.endpoint,
         "TopicArn": s.topic_arn} for s in response.subscriptions]}, response)


async def list_subscriptions_by_topic(call: Call, p: Params) -> Result:
    """ListSubscriptionsByTopic."""
    request = pb.ListSubscriptionsRequest(topic_arn=p["TopicArn"])
    if "NextToken" in p:
        request.next_token = p["NextToken"]
    return _subscriptions(await call.notifications("ListSubscriptions", request))


async def list_subscriptions(call: Call, p: Params) -> Result:
    """ListSubscriptions."""
    request = pb.ListSubscriptionsRequest()
    if "NextToken" in p:
        request.next_token = p["NextToken"]
    return _subscriptions(await call.notifications("ListSubscriptions", request))


OPERATIONS: dict[str, Handler] = {
    "CreateTopic": create_topic,
    "DeleteTopic": delete_topic,
    "ListTopics": list_topics,
    "GetTopicAttributes": get_topic_attributes,
    "Subscribe": subscribe,
    "ConfirmSubscription": confirm_subscription,
    "Unsubscribe": unsubscribe,
    "ListSubscriptionsByTopic": list_subscriptions_by_topic,
    "ListSubscriptions": list_subscriptions,
}
