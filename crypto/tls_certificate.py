"""The node's TLS certificates, made from its own Ed25519 node key.

Peers never trust the certificate for its name or its issuer: they pin its public key to the
node id they meant to reach (``federation.tls_pin``). The certificate is therefore a pure
function of the key: a fixed validity window, a serial number and names derived from the
public key, and Ed25519's deterministic signature. The same key always gives the same
certificate and so the same fingerprint, which ``init`` can show before the node first serves.

Browsers (Chromium, Firefox) do not accept Ed25519 certificates in TLS at all, so the node
has a second one for them: an ECDSA P-256 key derived from the node seed (HKDF, so nothing
more is stored), in a certificate issued and signed by the node key. It too is a pure function
of the seed; its fingerprint is the one people compare in their browser. Peers ask for the
server name ``FEDERATION_SERVER_NAME`` and get the Ed25519 one, whose key they pin.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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


BROWSER_KEY_INFO = b"rhizome/tls-browser-key/v1"
# The names of this machine, so a browser or curl that trusts the certificate on the hub
# itself (or through an SSH tunnel) also finds its name in it.
LOCAL_NAMES = [
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    x509.IPAddress(ipaddress.ip_address("::1")),
]
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def browser_key(seed: bytes) -> ec.EllipticCurvePrivateKey:
    """The P-256 key browsers see, derived from the node seed (HKDF-SHA256, 48 bytes reduced
    modulo the group order: no bias worth the name)."""
    okm = HKDF(hashes.SHA256(), 48, salt=None, info=BROWSER_KEY_INFO).derive(seed)
    scalar = int.from_bytes(okm) % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def make_browser_certificate(seed: bytes) -> x509.Certificate:
    """The certificate browsers are shown: the derived P-256 key, issued by the node key."""
    node_key = Ed25519PrivateKey.from_private_bytes(seed)
    node_id = node_id_from_public_key(node_key.public_key().public_bytes_raw())
    key = browser_key(seed)
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Rhizome node"),
            x509.NameAttribute(NameOID.COMMON_NAME, node_id[:63]),
        ]
    )
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Rhizome node (web)"),
            x509.NameAttribute(NameOID.COMMON_NAME, node_id[:63]),
        ]
    )
    public = node_key.public_key().public_bytes_raw()
    serial = int.from_bytes(hashlib.sha256(b"rhizome-tls-web-serial" + public).digest()[:16]) >> 1
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial or 1)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(LOCAL_NAMES), critical=False)
        .sign(node_key, None)  # Ed25519: deterministic, so the certificate is too
    )


def encrypted_browser_key_pem(seed: bytes, password: bytes) -> bytes:
    """The browser key as encrypted PKCS#8 PEM (handed to OpenSSL like the node key)."""
    return browser_key(seed).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
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
