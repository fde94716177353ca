"""TLS for tests that talk to a real node: trust exactly that node's own certificate.

This is real verification (the node's self-signed certificate as the only trust anchor), as
an operator who trusted the certificate once in a browser has; no test turns checking off.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import urllib.request
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from node.tls import certificate_path


def trusting(*homes: Path) -> ssl.SSLContext:
    """A client context that trusts the certificates of the nodes at ``homes`` only.

    Host names are not checked: the certificate names ``rhizome.invalid``, and the tests reach
    the node at 127.0.0.1; the trust anchor is the node's own certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no system authorities either
    context.load_verify_locations(cadata="".join(
        certificate_path(home).read_text(encoding="ascii") for home in homes
    ))  # fmt: skip
    context.check_hostname = False
    # The browsers' certificate is issued by the node key, not by itself: trusted as it is.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def urlopen(url: str, home: Path, **kwargs: Any) -> Any:
    """``urllib.request.urlopen`` trusting the node at ``home`` (for its https:// URL)."""
    return urllib.request.urlopen(url, context=trusting(home), **kwargs)


def spki_pin(home: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the node's certificate: what Chromium's
    ``--ignore-certificate-errors-spki-list`` takes to trust exactly that key, as an operator
    who compared the fingerprint and accepted the certificate once."""
    certificate = x509.load_pem_x509_certificate(certificate_path(home).read_bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def any_node_tls() -> ssl.SSLContext:
    """TLS to a test's own node over a raw socket, for the attack tests that hand-write HTTP
    to test the *server's* answers (long URLs, slow bodies, bad Host headers): the server
    speaks TLS as in production, and these tests do not check who answers. The client's
    checks (the pin, the trusted certificate) are tested in tests/integration/
    test_tls_transport.py and tests/attacks/test_man_in_the_middle.py."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def trusting_connector(*homes: Path) -> Any:
    """An aiohttp connector for a session of a test's own (a second browser) that trusts the
    nodes at ``homes`` only."""
    import aiohttp

    return aiohttp.TCPConnector(ssl=trusting(*homes))
