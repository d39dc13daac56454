"""The SNS messages StackWatch POSTs to subscribed endpoints, as SNS writes them. Pure: no I/O, no clock.

An HTTP/HTTPS subscriber gets a JSON body (sent as ``text/plain``, as SNS does) and headers naming
its kind::

    x-amz-sns-message-type       SubscriptionConfirmation | Notification
    x-amz-sns-message-id         the MessageId
    x-amz-sns-topic-arn          the topic
    x-amz-sns-subscription-arn   the subscription (Notification only)

Both kinds are signed (:mod:`services.alarm.signing`) and name the certificate's URL; the URLs
(SubscribeURL, UnsubscribeURL, SigningCertURL) are the gateway's, under its public base URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from services.alarm.signing import SigningKey

USER_AGENT = "Amazon Simple Notification Service Agent"
CONTENT_TYPE = "text/plain; charset=UTF-8"
#: Gateway paths (under the public base URL) of the unauthenticated SNS links.
CONFIRM_PATH = "/sns/confirm-subscription"
UNSUBSCRIBE_PATH = "/sns/unsubscribe"
CERTIFICATE_PREFIX = "/sns/"


def sns_time(epoch_ms: int) -> str:
    """SNS's Timestamp: ISO 8601 in UTC with milliseconds and ``Z``."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Links:
    """The URLs messages carry, under the gateway's public base URL (``http://host:port``).

    Attributes:
        base: the public base URL, without a trailing slash.
        certificate_name: the signing certificate's file name.
    """

    base: str
    certificate_name: str

    @property
    def certificate(self) -> str:
        """SigningCertURL."""
        return f"{self.base}{CERTIFICATE_PREFIX}{self.certificate_name}"

    def subscribe(self, topic_arn: str, token: str) -> str:
        """SubscribeURL: a GET confirms the subscription."""
        return f"{self.base}{CONFIRM_PATH}?{urlencode({'TopicArn': topic_arn, 'Token': token})}"

    def unsubscribe(self, subscription_arn: str) -> str:
        """UnsubscribeURL: a GET deletes the subscription."""
        return f"{self.base}{UNSUBSCRIBE_PATH}?{urlencode({'SubscriptionArn': subscription_arn})}"


@dataclass(frozen=True, slots=True)
class Envelope:
    """One HTTP POST to a subscriber: its headers and JSON body."""

    headers: dict[str, str]
    body: bytes


def _signed(fields: dict[str, str], key: SigningKey, version: str, links: Links) -> dict[str, str]:
    signature = key.sign(fields, version)
    return {**fields, "SignatureVersion": version, "Signature": signature, "SigningCertURL": links.certificate}


def subscription_confirmation(*, topic_arn: str, token: str, message_id: str, epoch_ms: int, key: SigningKey,
                              version: str, links: Links) -> Envelope:
    """The SubscriptionConfirmation a new subscription's endpoint receives."""
    url = links.subscribe(topic_arn, token)
    fields = {"Type": "SubscriptionConfirmation", "MessageId": message_id, "Token": token, "TopicArn": topic_arn,
              "Message": (f"StackWatch was asked to deliver the notifications of {topic_arn} to this endpoint. "
                          "To confirm, visit the SubscribeURL of this message or call ConfirmSubscription "
                          "with its Token."),
              "SubscribeURL": url, "Timestamp": sns_time(epoch_ms)}
    doc = _signed(fields, key, version, links)
    headers = {"x-amz-sns-message-type": "SubscriptionConfirmation", "x-amz-sns-message-id": message_id,
               "x-amz-sns-topic-arn": topic_arn, "Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT}
    return Envelope(headers, json.dumps(doc, ensure_ascii=False).encode())


def notification(*, topic_arn: str, subscription_arn: str, message_id: str, subject: str | None, message: str,
                 epoch_ms: int, key: SigningKey, version: str, links: Links) -> Envelope:
    """The Notification a confirmed subscription's endpoint receives."""
    fields = {"Type": "Notification", "MessageId": message_id, "TopicArn": topic_arn}
    if subject is not None:
        fields["Subject"] = subject
    fields.update({"Message": message, "Timestamp": sns_time(epoch_ms)})
    doc = {**_signed(fields, key, version, links), "UnsubscribeURL": links.unsubscribe(subscription_arn)}
    headers = {"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": message_id,
               "x-amz-sns-topic-arn": topic_arn, "x-amz-sns-subscription-arn": subscription_arn,
               "Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT}
    return Envelope(headers, json.dumps(doc, ensure_ascii=False).encode())
