"""Alarm actions end to end: SNS topics through the gateway, a real HTTP subscriber, signed notifications.

boto3's ``sns`` client (query protocol, as SNS speaks only that) creates topics and subscribes an
aiohttp endpoint this test starts on 127.0.0.1. The endpoint records every POST and answers each
path as told (``/ok`` 200, ``/flaky`` 500 twice then 200, ``/bad`` 400). Signatures are checked
with ``aws-sns-message-validator`` (a verifier written by others, SignatureVersion 1, fetching the
certificate from the gateway) and, for SignatureVersion 2, with ``cryptography`` following SNS's
documented algorithm.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sns_message_validator import SNSMessageValidator

from stackwatch.domain.arn import account_number
from tests.e2e.stack import TENANTS
from tests.e2e.subscriber import Subscriber


@pytest.fixture(scope="module")
def subscriber() -> Iterator[Subscriber]:
    s = Subscriber().start()
    yield s
    s.stop()


def _sns(stack: Any, tenant: str) -> Any:
    t = TENANTS[tenant]
    client = boto3.session.Session(aws_access_key_id=t["access_key_id"], aws_secret_access_key=t["secret_access_key"],
                                   region_name="us-east-1").client(
        "sns", endpoint_url=stack.endpoint, config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    assert client.meta.service_model.resolved_protocol == "query"
    return client


@pytest.fixture
def sns(stack):
    return _sns(stack, "a")


@pytest.fixture
def sns_b(stack):
    return _sns(stack, "b")


@pytest.fixture
def cw(stack, tmp_path_factory):
    from tests.e2e.clients import cloudwatch

    t = TENANTS["a"]
    return cloudwatch(stack.endpoint, "query", t["access_key_id"], t["secret_access_key"],
                      tmp_path_factory.getbasetemp())


def _unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def _validator(stack: Any) -> SNSMessageValidator:
    return SNSMessageValidator(cert_url_regex=rf"^{stack.endpoint}/sns/")


def _verify_v2(doc: dict[str, Any]) -> None:
    """SNS's documented check for SignatureVersion 2 (SHA256withRSA), with the certificate the gateway serves."""
    names = (["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] if doc["Type"] == "Notification"
             else ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"])
    text = "".join(f"{n}\n{doc[n]}\n" for n in names if n in doc).encode()
    with urllib.request.urlopen(doc["SigningCertURL"]) as response:  # noqa: S310 - the test's own gateway
        cert = x509.load_pem_x509_certificate(response.read())
    cert.public_key().verify(base64.b64decode(doc["Signature"]), text, padding.PKCS1v15(),  # type: ignore[call-arg,union-attr]
                             hashes.SHA256())  # type: ignore[arg-type]


def _subscribe_confirmed(sns: Any, subscriber: Subscriber, topic: str, path: str) -> str:
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url(path))["SubscriptionArn"] == \
        "pending confirmation"
    [confirmation] = subscriber.wait(path, "SubscriptionConfirmation")
    return str(sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"])


def _alarm(cw: Any, topic: str) -> str:
    name = _unique("notify")
    cw.put_metric_alarm(AlarmName=name, Namespace="E2E/Notify", MetricName="Latency", Statistic="Maximum",
                        Period=3600, EvaluationPeriods=1, Threshold=100.0, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[topic])
    return name


def _action_items(cw: Any, name: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]
        if len(items) >= count or time.monotonic() > deadline:
            return list(items)
        time.sleep(0.1)


def test_subscribe_confirm_and_receive_one_signed_alarm_notification(stack, sns, cw, subscriber):
    name = _unique("ops")
    topic = sns.create_topic(Name=name)["TopicArn"]
    assert topic == f"arn:aws:sns:us-east-1:{account_number(TENANTS['a']['account_id'])}:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == topic  # idempotent by name
    assert {"TopicArn": topic} in sns.list_topics()["Topics"]
    path = f"/ok/{name}"
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url(path))["SubscriptionArn"] == \
        "pending confirmation"
    [confirmation] = subscriber.wait(path, "SubscriptionConfirmation")
    _validator(stack).validate_message(confirmation)  # SignatureVersion 1, certificate fetched from the gateway
    assert confirmation["TopicArn"] == topic and confirmation["SignatureVersion"] == "1"
    [(_, headers, _)] = [r for r in subscriber.received if r[0] == path]
    assert (headers["x-amz-sns-message-type"], headers["x-amz-sns-topic-arn"]) == ("SubscriptionConfirmation", topic)
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (listed["SubscriptionArn"], listed["Protocol"], listed["Endpoint"]) == (
        "PendingConfirmation", "http", subscriber.url(path))
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"] == arn
    assert any(s["SubscriptionArn"] == arn for s in sns.list_subscriptions()["Subscriptions"])
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["SubscriptionsConfirmed"], attributes["SubscriptionsPending"]) == ("1", "0")

    alarm = _alarm(cw, topic)
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="e2e says so")
    [note] = subscriber.wait(path, "Notification")
    _validator(stack).validate_message(note)
    assert (note["TopicArn"], note["Subject"]) == (topic, f'ALARM: "{alarm}" in us-east-1')
    message = json.loads(note["Message"])
    assert (message["AlarmName"], message["NewStateValue"], message["OldStateValue"]) == (
        alarm, "ALARM", "INSUFFICIENT_DATA")
    assert message["NewStateReason"] == "e2e says so" and message["Trigger"]["MetricName"] == "Latency"
    assert note["UnsubscribeURL"].startswith(f"{stack.endpoint}/sns/unsubscribe?")
    [item] = _action_items(cw, alarm)
    assert item["HistorySummary"] == f"Successfully executed action {topic}"
    time.sleep(1.0)
    assert len(subscriber.of(path, "Notification")) == 1  # exactly once

    with urllib.request.urlopen(note["UnsubscribeURL"]) as response:  # noqa: S310 - the test's own gateway
        assert response.status == 200 and b"<UnsubscribeResponse" in response.read()
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_the_subscribe_url_confirms_and_signature_version_2_verifies(stack, sns, cw, subscriber):
    name = _unique("v2")
    topic = sns.create_topic(Name=name, Attributes={"SignatureVersion": "2"})["TopicArn"]
    path = f"/ok/{name}"
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url(path))
    [confirmation] = subscriber.wait(path, "SubscriptionConfirmation")
    assert confirmation["SignatureVersion"] == "2"
    _verify_v2(confirmation)
    with urllib.request.urlopen(confirmation["SubscribeURL"]) as response:  # noqa: S310 - the test's own gateway
        body = response.read().decode()
    assert "<ConfirmSubscriptionResponse" in body and f"<SubscriptionArn>{topic}:" in body
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"].startswith(topic)
    alarm = _alarm(cw, topic)
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="v2")
    [note] = subscriber.wait(path, "Notification")
    _verify_v2(note)
    bad = urllib.request.Request(confirmation["SubscribeURL"].replace("Token=", "Token=0"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bad)  # noqa: S310
    assert refused.value.code == 400 and b"<Code>InvalidParameter</Code>" in refused.value.read()


def test_an_endpoint_failing_twice_gets_the_message_and_history_shows_one_success(sns, cw, subscriber):
    name = _unique("flaky")
    topic = sns.create_topic(Name=name)["TopicArn"]
    path = f"/flaky/{name}"
    _subscribe_confirmed(sns, subscriber, topic, path)
    subscriber.failures[path] = [500, 500]
    alarm = _alarm(cw, topic)
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="flaky")
    notes = subscriber.wait(path, "Notification", count=3)
    assert len(notes) == 3 and len({n["MessageId"] for n in notes}) == 1  # one message, retried
    [item] = _action_items(cw, alarm)
    assert item["HistorySummary"] == f"Successfully executed action {topic}"


def test_an_endpoint_answering_400_is_a_failed_action_without_retries(sns, cw, subscriber):
    name = _unique("bad")
    topic = sns.create_topic(Name=name)["TopicArn"]
    path = f"/bad/{name}"
    subscriber.failures[path] = [200]  # the confirmation is accepted
    _subscribe_confirmed(sns, subscriber, topic, path)
    alarm = _alarm(cw, topic)
    cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="bad")
    [item] = _action_items(cw, alarm)
    assert item["HistorySummary"] == f"Failed to execute action {topic}"
    assert "HTTP 400" in json.loads(item["HistoryData"])["error"]
    time.sleep(1.0)
    assert len(subscriber.of(path, "Notification")) == 1


def test_sns_errors_are_snss(sns):
    def code(call: Any, **params: Any) -> tuple[str, int, str]:
        with pytest.raises(ClientError) as e:
            call(**params)
        err = e.value.response["Error"]
        return err["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"], err["Message"]

    topic = sns.create_topic(Name=_unique("errors"))["TopicArn"]
    assert code(sns.create_topic, Name="bad name!") == ("InvalidParameter", 400, "Invalid parameter: Topic Name")
    assert code(sns.subscribe, TopicArn=topic, Protocol="carrier-pigeon", Endpoint="x")[:2] == ("InvalidParameter", 400)
    assert code(sns.subscribe, TopicArn=topic, Protocol="email", Endpoint="a@b.c")[:2] == ("InvalidParameter", 400)
    assert code(sns.subscribe, TopicArn=topic, Protocol="https", Endpoint="http://x") == (
        "InvalidParameter", 400, "Invalid parameter: Endpoint must match the specified protocol")
    assert code(sns.get_topic_attributes, TopicArn=topic + "-gone") == ("NotFound", 404, "Topic does not exist")
    assert code(sns.get_topic_attributes, TopicArn="arn:aws:sqs:x") == ("InvalidParameter", 400,
                                                                       "Invalid parameter: TopicArn")
    assert code(sns.confirm_subscription, TopicArn=topic, Token="nope") == ("InvalidParameter", 400,
                                                                           "Invalid parameter: Token")
    sns.delete_topic(TopicArn=topic)
    sns.delete_topic(TopicArn=topic)  # a missing topic is no error
    assert code(sns.get_topic_attributes, TopicArn=topic)[:2] == ("NotFound", 404)


def test_list_topics_pages_by_100(sns):
    prefix = _unique("page")
    made = sorted(sns.create_topic(Name=f"{prefix}-{i:03d}")["TopicArn"] for i in range(105))
    seen, token = [], None
    while True:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        assert len(page["Topics"]) <= 100
        seen += [t["TopicArn"] for t in page["Topics"]]
        if not (token := page.get("NextToken")):
            break
    assert [t for t in seen if prefix in t] == made


def test_another_tenant_cannot_see_subscribe_to_delete_or_be_notified_through_a_topic(stack, sns, sns_b, subscriber,
                                                                                         tmp_path_factory):
    from tests.e2e.clients import cloudwatch

    topic = sns.create_topic(Name=_unique("mine"))["TopicArn"]
    path = f"/ok/{topic.rsplit(':', 1)[1]}"
    _subscribe_confirmed(sns, subscriber, topic, path)
    assert topic not in [t["TopicArn"] for t in sns_b.list_topics()["Topics"]]
    for call, params in ((sns_b.get_topic_attributes, {}), (sns_b.delete_topic, {}),
                         (sns_b.list_subscriptions_by_topic, {}),
                         (sns_b.subscribe, {"Protocol": "http", "Endpoint": subscriber.url("/ok/thief")})):
        with pytest.raises(ClientError) as e:
            call(TopicArn=topic, **params)
        assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
            "AuthorizationError", 403)
    [mine] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    with pytest.raises(ClientError) as e:
        sns_b.unsubscribe(SubscriptionArn=mine["SubscriptionArn"])
    assert e.value.response["Error"]["Code"] == "AuthorizationError"
    assert sns_b.list_subscriptions()["Subscriptions"] == [] or all(
        s["TopicArn"] != topic for s in sns_b.list_subscriptions()["Subscriptions"])
    # B's alarm naming A's topic: a failed action, and A's endpoint hears nothing
    t = TENANTS["b"]
    cw_b = cloudwatch(stack.endpoint, "query", t["access_key_id"], t["secret_access_key"],
                      tmp_path_factory.getbasetemp())
    alarm = _alarm(cw_b, topic)
    cw_b.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="borrowed topic")
    [item] = _action_items(cw_b, alarm)
    assert item["HistorySummary"] == f"Failed to execute action {topic}"
    assert subscriber.of(path, "Notification") == []
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"] == "1"


def test_breaching_data_notifies_once(sns, cw, subscriber):
    from datetime import UTC, datetime, timedelta

    name = _unique("breach")
    topic = sns.create_topic(Name=name)["TopicArn"]
    path = f"/ok/{name}"
    _subscribe_confirmed(sns, subscriber, topic, path)
    namespace = f"E2E/{name}"
    now = datetime.now(UTC)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Timestamp": now - timedelta(seconds=s), "Value": 500.0, "StorageResolution": 1}
        for s in (0, 5, 10, 15, 20)])
    alarm = _unique("breach")
    cw.put_metric_alarm(AlarmName=alarm, Namespace=namespace, MetricName="Latency", Statistic="Maximum", Period=10,
                        EvaluationPeriods=1, Threshold=100.0, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[topic])
    [note] = subscriber.wait(path, "Notification", timeout=40)  # a 10 s period closes, then a pass
    message = json.loads(note["Message"])
    assert (message["NewStateValue"], message["Trigger"]["Period"]) == ("ALARM", 10)
    assert message["NewStateReason"].startswith("Threshold Crossed: 1 datapoint [500.0 (")
    time.sleep(3)  # later passes keep it in ALARM: no new transition, no new notification
    assert len(subscriber.of(path, "Notification")) == 1


def test_stackwatch_listen_confirms_prints_verified_notifications_and_flags_forgeries(sns, cw, subscriber):
    proc = subprocess.Popen([sys.executable, "-m", "stackwatch.cli", "listen", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    assert proc.stdout is not None
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()

    def seen(text: str, count: int = 1, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while sum(text in line for line in list(lines)) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    try:
        assert seen("Listening for SNS messages on "), lines
        url = next(line for line in lines if "Listening" in line).split(" on ")[1].split(" ")[0]
        topic = sns.create_topic(Name=_unique("listen"))["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
        assert seen("subscription confirmed"), lines
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"].startswith(topic)
        path = f"/ok/{topic.rsplit(':', 1)[1]}"  # the test's own subscriber gets the same notification
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url(path))
        [confirmation] = subscriber.wait(path, "SubscriptionConfirmation")
        sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])

        alarm = _alarm(cw, topic)
        cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="listen says so")
        assert seen(f'Subject: ALARM: "{alarm}" in us-east-1'), lines
        assert sum("Notification from" in line and "signature verified" in line for line in lines) == 1, lines
        assert seen('"NewStateReason": "listen says so"'), lines

        [genuine] = subscriber.wait(path, "Notification")
        for body, verdict in (({**genuine, "Message": genuine["Message"].replace("ALARM", "OK")}, "NOT VALID"),
                              (genuine, "verified")):
            request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the test's own listener
                assert answer.status == 200
            assert seen(f"Notification from {topic} (signature {verdict})", count=2 if verdict == "verified" else 1)
        assert sum(f'Subject: ALARM: "{alarm}"' in line for line in lines) == 2, lines  # the forgery not printed
    finally:
        proc.terminate()
        proc.wait(10)
