"""The node's TLS certificate: self-signed, made from its own Ed25519 node key.

Peers never trust the certificate for its name or its issuer: they pin its public key to the
node id they meant to reach (``federation.tls_pin``). The certificate is therefore a pure
function of the key: a fixed validity window, a serial number and names derived from the
public key, and Ed25519's deterministic signature. The same key always gives the same
certificate and so the same fingerprint, which ``init`` can show before the node first serves.
"""

from __future__ import annotations

import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from crypto.node_id import node_id_from_public_key

# The pin is the key, not the dates: a window that never runs out spares operators a renewal
# that would gain nothing (RFC 5280 4.1.2.5: 99991231235959Z means "no expiry").
NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


# The TLS server name (SNI) peers ask for: a node that shows browsers a domain's certificate
# answers this name with its own (``node.tls``). ``.invalid`` is never a real domain.
FEDERATION_SERVER_NAME = "rhizome.invalid"


def make_certificate(seed: bytes) -> x509.Certificate:
    """The self-signed certificate of the node whose Ed25519 seed is ``seed``."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes_raw()
    node_id = node_id_from_public_key(public)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Rhizome node"),
            x509.NameAttribute(NameOID.COMMON_NAME, node_id[:63]),  # CN holds 64 at most
        ]
    )
    serial = int.from_bytes(hashlib.sha256(b"rhizome-tls-serial" + public).digest()[:16]) >> 1
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial or 1)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(FEDERATION_SERVER_NAME)]), critical=False
        )
        .sign(key, None)
    )


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def certificate_public_key(der: bytes) -> bytes | None:
    """The raw Ed25519 public key of a DER certificate; None if it holds another kind of key
    or is not a certificate at all."""
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:
        return None
    if not isinstance(key, Ed25519PublicKey):
        return None
    return key.public_bytes_raw()


def fingerprint(der: bytes) -> str:
    """SHA-256 of the certificate, as browsers show it: ``3A:F1:…`` (32 pairs)."""
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    return fingerprint(certificate.public_bytes(serialization.Encoding.DER))


def encrypted_private_key_pem(seed: bytes, password: bytes) -> bytes:
    """The node key as PKCS#8 PEM encrypted under ``password``: the only form in which it is
    handed to OpenSSL (see ``node.tls``), so no plaintext copy of it is ever written."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
