"""The node's TLS certificate: a pure function of its key, holding that key, self-signed."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto.signing import SigningIdentity
from crypto.tls_certificate import (
    FEDERATION_SERVER_NAME,
    browser_key,
    certificate_fingerprint,
    certificate_public_key,
    encrypted_private_key_pem,
    fingerprint,
    make_browser_certificate,
    make_certificate,
)

SEED = bytes(range(32))
# Known answer: the same key must always give this certificate (peers and browsers that
# trusted it once see it unchanged after a restart, a reinstall or a restore).
KNOWN_FINGERPRINT = (
    "F3:73:A5:35:BD:1C:2A:01:0B:B4:F6:AF:38:3B:A9:B1:"
    "99:D2:8A:83:B2:7F:04:C3:74:58:67:2B:3F:AA:72:FF"
)


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def test_the_certificate_of_a_fixed_key_is_known() -> None:
    certificate = make_certificate(SEED)
    assert certificate_fingerprint(certificate) == KNOWN_FINGERPRINT
    assert fingerprint(der(certificate)) == KNOWN_FINGERPRINT
    assert der(make_certificate(SEED)) == der(certificate)


def test_the_certificate_holds_the_node_key_and_signs_itself() -> None:
    identity = SigningIdentity.from_seed(SEED)
    certificate = make_certificate(SEED)
    assert certificate_public_key(der(certificate)) == identity.public_key
    key = certificate.public_key()
    assert isinstance(key, Ed25519PublicKey)
    key.verify(certificate.signature, certificate.tbs_certificate_bytes)  # raises if forged
    assert certificate.issuer == certificate.subject
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [FEDERATION_SERVER_NAME]
    assert identity.node_id.startswith(
        certificate.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    )


def test_another_key_gives_another_certificate() -> None:
    other = make_certificate(bytes(32))
    assert certificate_fingerprint(other) != KNOWN_FINGERPRINT
    assert certificate_public_key(der(other)) != SigningIdentity.from_seed(SEED).public_key


def test_the_fingerprint_is_sha256_in_pairs() -> None:
    data = b"not a certificate"
    assert fingerprint(data) == ":".join(f"{b:02X}" for b in hashlib.sha256(data).digest())
    assert len(fingerprint(data)) == 32 * 3 - 1


def test_junk_or_another_kind_of_key_has_no_node_key() -> None:
    assert certificate_public_key(b"junk") is None


def test_the_key_is_handed_over_encrypted_only() -> None:
    pem = encrypted_private_key_pem(SEED, b"one-time password")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):  # no password, no key
        serialization.load_pem_private_key(pem, None)
    key = serialization.load_pem_private_key(pem, b"one-time password")
    assert key.public_key().public_bytes_raw() == SigningIdentity.from_seed(SEED).public_key  # type: ignore[union-attr]


KNOWN_BROWSER_FINGERPRINT = (
    "49:91:1B:CD:B1:F1:EF:1D:36:C9:0F:3F:8D:1B:92:9E:"
    "80:D1:ED:2F:74:E5:34:C3:0F:5F:07:8D:90:6B:59:59"
)


def test_the_browsers_certificate_is_known_and_issued_by_the_node_key() -> None:
    """Browsers refuse Ed25519 in TLS: they get a P-256 key derived from the seed, in a
    certificate the node key signs (deterministic, so its fingerprint never changes)."""
    certificate = make_browser_certificate(SEED)
    assert certificate_fingerprint(certificate) == KNOWN_BROWSER_FINGERPRINT
    assert der(make_browser_certificate(SEED)) == der(certificate)
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    node_key = Ed25519PublicKey.from_public_bytes(SigningIdentity.from_seed(SEED).public_key)
    node_key.verify(certificate.signature, certificate.tbs_certificate_bytes)
    assert certificate.issuer == make_certificate(SEED).subject
    assert browser_key(SEED).private_numbers() == browser_key(SEED).private_numbers()
    assert browser_key(bytes(32)).private_numbers() != browser_key(SEED).private_numbers()
