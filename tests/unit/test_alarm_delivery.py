# ruff: noqa: D103 - test names say what each test checks
"""SNS message signing (canonical strings, both signature versions) and the notifier's retry rules."""

from __future__ import annotations

import base64
import json

import grpc
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from services.alarm import messages
from services.alarm.delivery import Attempt, RetryPolicy, http_attempt, rpc_attempt, with_retries
from services.alarm.signing import SigningKey, canonical_string, message_id

KEY = SigningKey.generate()
LINKS = messages.Links("http://127.0.0.1:8080", KEY.certificate_name)
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops"


def _verify(doc: dict[str, str]) -> None:
    """SNS's documented check, done with cryptography by hand: fields, order, hash by version."""
    names = (["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] if doc["Type"] == "Notification"
             else ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"])
    text = "".join(f"{n}\n{doc[n]}\n" for n in names if n in doc).encode()
    cert = x509.load_pem_x509_certificate(KEY.certificate_pem)
    digest = hashes.SHA1() if doc["SignatureVersion"] == "1" else hashes.SHA256()
    cert.public_key().verify(base64.b64decode(doc["Signature"]), text, padding.PKCS1v15(), digest)  # type: ignore[union-attr,call-arg,arg-type]


def test_canonical_strings_follow_sns_field_order():
    note = {"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Subject": "s", "Message": "x\ny",
            "Timestamp": "2026-12-03T10:00:00.000Z", "UnsubscribeURL": "not signed"}
    assert canonical_string(note) == (b"Message\nx\ny\nMessageId\nm\nSubject\ns\nTimestamp\n2026-12-03T10:00:00.000Z\n"
                                      b"TopicArn\nt\nType\nNotification\n")
    del note["Subject"]
    assert b"Subject" not in canonical_string(note)
    confirmation = {"Type": "SubscriptionConfirmation", "MessageId": "m", "Token": "k", "TopicArn": "t",
                    "Message": "hi", "SubscribeURL": "u", "Timestamp": "ts"}
    assert canonical_string(confirmation) == (
        b"Message\nhi\nMessageId\nm\nSubscribeURL\nu\nTimestamp\nts\nToken\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n")
    with pytest.raises(ValueError, match="Token"):
        canonical_string({k: v for k, v in confirmation.items() if k != "Token"})
    with pytest.raises(ValueError):
        canonical_string({"Type": "Other"})


@pytest.mark.parametrize("version", ["1", "2"])
def test_both_kinds_of_message_verify_with_the_served_certificate(version):
    note = messages.notification(topic_arn=TOPIC, subscription_arn=f"{TOPIC}:abc", message_id="m-1", subject="ALARM",
                                 message='{"AlarmName":"cpu"}', epoch_ms=1_764_756_000_123, key=KEY, version=version,
                                 links=LINKS)
    doc = json.loads(note.body)
    assert (doc["SignatureVersion"], doc["Timestamp"]) == (version, "2025-12-03T10:00:00.123Z")
    assert doc["SigningCertURL"] == f"http://127.0.0.1:8080/sns/{KEY.certificate_name}"
    assert note.headers["x-amz-sns-message-type"] == "Notification"
    _verify(doc)
    confirm = json.loads(messages.subscription_confirmation(
        topic_arn=TOPIC, token="tok", message_id="m-2", epoch_ms=0, key=KEY, version=version, links=LINKS).body)
    assert confirm["SubscribeURL"].startswith("http://127.0.0.1:8080/sns/confirm-subscription?TopicArn=arn%3Aaws")
    _verify(confirm)
    doc["Message"] = '{"AlarmName":"other"}'
    with pytest.raises(InvalidSignature):
        _verify(doc)


def test_an_independent_verifier_accepts_our_signature_version_1(monkeypatch):
    from sns_message_validator import SNSMessageValidator

    validator = SNSMessageValidator(cert_url_regex=r"^http://127\.0\.0\.1:8080/sns/")
    served = type("Served", (), {"content": KEY.certificate_pem})
    monkeypatch.setattr(validator._cert_session, "get", lambda url: served)  # the certificate the gateway serves
    doc = json.loads(messages.notification(topic_arn=TOPIC, subscription_arn=f"{TOPIC}:abc", message_id="m",
                                           subject="ALARM: \"cpu\" in us-east-1", message="{}", epoch_ms=0, key=KEY,
                                           version="1", links=LINKS).body)
    validator.validate_message(doc)
    doc["Subject"] = "tampered"
    with pytest.raises(Exception, match="Invalid signature"):
        validator.validate_message(doc)


def test_a_key_survives_its_file(tmp_path):
    path = tmp_path / "keys" / "sns.pem"
    made = SigningKey.load_or_create(str(path))
    assert path.stat().st_mode & 0o777 == 0o600
    again = SigningKey.load_or_create(str(path))
    assert again.certificate_pem == made.certificate_pem and again.certificate_name == made.certificate_name
    note = {"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "x", "Timestamp": "t"}
    assert again.sign(note) == made.sign(note)  # PKCS#1 v1.5 is deterministic: the same key


def test_message_ids_are_uuids_stable_per_key_and_target():
    first = message_id("arn:alarm#2026-12-03T10:00:00.000+0000", TOPIC)
    assert first == message_id("arn:alarm#2026-12-03T10:00:00.000+0000", TOPIC)
    assert first != message_id("arn:alarm#2026-12-03T10:01:00.000+0000", TOPIC)
    assert first != message_id("arn:alarm#2026-12-03T10:00:00.000+0000", TOPIC + "2")
    assert len(first) == 36 and first[14] == "5"


@pytest.mark.parametrize(("status", "ok", "recoverable"), [
    (200, True, False), (204, True, False), (301, False, False), (400, False, False), (403, False, False),
    (404, False, False), (429, False, True), (500, False, True), (503, False, True)])
def test_http_statuses_are_classified_as_alertmanager_does(status, ok, recoverable):
    attempt = http_attempt(status)
    assert (attempt.ok, attempt.recoverable) == (ok, recoverable)


@pytest.mark.parametrize(("code", "recoverable"), [
    (grpc.StatusCode.UNAVAILABLE, True), (grpc.StatusCode.DEADLINE_EXCEEDED, True),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, True), (grpc.StatusCode.UNIMPLEMENTED, False),
    (grpc.StatusCode.PERMISSION_DENIED, False), (grpc.StatusCode.INVALID_ARGUMENT, False)])
def test_grpc_failures_are_classified(code, recoverable):
    attempt = rpc_attempt(code, "why")
    assert not attempt.ok and attempt.recoverable is recoverable and code.name in (attempt.error or "")


QUICK = RetryPolicy(first_wait=0.001, max_wait=0.01, deadline=5.0)


async def _run(results: list[Attempt], policy: RetryPolicy = QUICK) -> tuple[Attempt, int]:
    answers = iter(results)

    async def attempt() -> Attempt:
        return next(answers)

    return await with_retries(attempt, policy)


async def test_recoverable_failures_are_retried_until_a_success():
    last, count = await _run([http_attempt(500), http_attempt(503), http_attempt(200)])
    assert last.ok and count == 3


async def test_a_final_failure_is_not_retried():
    last, count = await _run([http_attempt(400), http_attempt(200)])
    assert (last.error, count) == ("The endpoint answered HTTP 400.", 1)


async def test_recoverable_failures_give_up_at_the_deadline():
    last, count = await _run([http_attempt(503)] * 1000, RetryPolicy(first_wait=0.01, max_wait=0.01, deadline=0.1))
    assert not last.ok and last.recoverable and 2 <= count < 50
