r"""Signed SNS messages: the key, its certificate, and SNS's canonical string of a message.

A subscriber checks an SNS message by fetching the certificate at ``SigningCertURL``, rebuilding
the message's canonical string and verifying ``Signature`` (base64) over it with the
certificate's public key: SHA1withRSA for ``SignatureVersion`` 1, SHA256withRSA for 2. The
canonical string is ``Key\\nValue\\n`` for each signed field in byte order of the key names::

    Notification                Message, MessageId, Subject (only if present), Timestamp, TopicArn, Type
    SubscriptionConfirmation    Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type
    UnsubscribeConfirmation     (as SubscriptionConfirmation)

SNS signs with version 1 unless the topic's ``SignatureVersion`` attribute says 2, so StackWatch
does the same; every SNS verifier handles both.

StackWatch's key is an RSA key and a self-signed X.509 certificate made once and kept in a PEM
file (``AlarmSettings.signing_key_file``: the key, then the certificate); the certificate is
served by the gateway at a URL named after its fingerprint, so a new key gets a new URL and a
subscriber's cache of the old certificate is never wrong. Pure but for :meth:`SigningKey.load_or_create`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

LOG = logging.getLogger(__name__)

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
#: The SignatureVersion SNS uses unless a topic asks for another.
DEFAULT_SIGNATURE_VERSION = "1"


def canonical_string(message: Mapping[str, str]) -> bytes:
    """The bytes SNS signs for ``message`` (a Notification or a (Un)SubscriptionConfirmation).

    Raises:
        ValueError: the message's ``Type`` is none of those, or a required field is missing.
    """
    kind = message.get("Type")
    fields: tuple[str, ...]
    if kind == "Notification":
        fields = NOTIFICATION_FIELDS
    elif kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        fields = CONFIRMATION_FIELDS
    else:
        raise ValueError(f"SNS signs no message of Type {kind!r}")
    out = []
    for name in fields:
        if name not in message:
            if name == "Subject":
                continue
            raise ValueError(f"a {kind} message needs {name}")
        out.append(f"{name}\n{message[name]}\n")
    return "".join(out).encode()


def verify(message: Mapping[str, str], certificate_pem: bytes) -> bool:
    """Whether ``message``'s ``Signature`` is valid under the certificate in ``certificate_pem``.

    What a subscriber does with the certificate it fetched from ``SigningCertURL``; False for an
    unknown ``SignatureVersion``, a message SNS does not sign, or a bad signature.
    """
    digest = _HASHES.get(message.get("SignatureVersion", ""))
    if digest is None:
        return False
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        public = certificate.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            return False
        public.verify(base64.b64decode(message.get("Signature", "")), canonical_string(message),
                      padding.PKCS1v15(), digest())
    except (ValueError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An RSA key and its self-signed certificate.

    Attributes:
        key: the private key.
        certificate_pem: the certificate, PEM-encoded (what SigningCertURL serves).
    """

    key: rsa.RSAPrivateKey
    certificate_pem: bytes

    @property
    def fingerprint(self) -> str:
        """The certificate's SHA-256 fingerprint, hex (names the certificate's URL)."""
        cert = x509.load_pem_x509_certificate(self.certificate_pem)
        return cert.fingerprint(hashes.SHA256()).hex()

    @property
    def certificate_name(self) -> str:
        """The certificate's file name under the gateway's ``/sns/`` path."""
        return f"SimpleNotificationService-{self.fingerprint[:32]}.pem"

    def sign(self, message: Mapping[str, str], version: str = DEFAULT_SIGNATURE_VERSION) -> str:
        """``Signature`` of ``message``, base64, for ``SignatureVersion`` ``version`` ("1" or "2")."""
        digest = _HASHES[version]()
        return base64.b64encode(self.key.sign(canonical_string(message), padding.PKCS1v15(), digest)).decode()

    @classmethod
    def generate(cls, common_name: str = "StackWatch SNS signing", now: dt.datetime | None = None) -> SigningKey:
        """A fresh 2048-bit key with a certificate good for ten years."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        start = now or dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(start - dt.timedelta(days=1))
                .not_valid_after(start + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
        return cls(key, cert.public_bytes(serialization.Encoding.PEM))

    def to_pem(self) -> bytes:
        """The key (PKCS#8, unencrypted) followed by the certificate."""
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()) + self.certificate_pem

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        """Read what :meth:`to_pem` wrote."""
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the signing key must be an RSA key")
        start = data.index(b"-----BEGIN CERTIFICATE-----")
        cert = x509.load_pem_x509_certificate(data[start:])
        return cls(key, cert.public_bytes(serialization.Encoding.PEM))

    @classmethod
    def load_or_create(cls, path: str | None) -> SigningKey:
        """The key kept at ``path``, made (mode 0600) on first use; without a path, a key for this run only."""
        if path is None:
            LOG.warning("no signing_key_file: SNS messages are signed with a key that lasts one run")
            return cls.generate()
        file = Path(path)
        if file.exists():
            return cls.from_pem(file.read_bytes())
        made = cls.generate()
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(made.to_pem())
        os.replace(tmp, file)
        LOG.info("made the SNS signing key %s (certificate %s)", file, made.certificate_name)
        return made


def message_id(idempotency_key: str, target: str) -> str:
    """The MessageId of the notification for ``(key, target)``: a UUID, the same on every retry."""
    digest = bytearray(hashlib.sha256(f"{idempotency_key}\x00{target}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5 layout, as uuid5 sets it
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
