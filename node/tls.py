"""The server's TLS: TLS 1.3 only, with the certificate made from the node key.

The node key may be sealed with a passphrase on disk, so it must never reach the disk in
the clear, not even for the moment OpenSSL reads it. ``ssl.SSLContext.load_cert_chain`` only
reads files, so the key is handed over encrypted (PKCS#8 under a random one-time password
that lives only in this process's memory) through an anonymous in-memory file
(``memfd_create``: no name in any folder, gone when closed). Where there is no memfd, a 0600
temporary file in the node home holds the same encrypted PEM and is deleted right after
loading; even if a crash left it behind, it is useless without the password.
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from crypto.signing import SigningIdentity
from crypto.tls_certificate import (
    FEDERATION_SERVER_NAME,
    certificate_fingerprint,
    certificate_pem,
    encrypted_browser_key_pem,
    encrypted_private_key_pem,
    fingerprint,
    make_browser_certificate,
    make_certificate,
)
from node.i18n import N_

if TYPE_CHECKING:
    from node.node import Node

CERTIFICATE_FILE = "tls-certificate.pem"  # shown to browsers: its fingerprint is the one shown
NODE_CERTIFICATE_FILE = "tls-node-certificate.pem"  # shown to peers: the node key, pinned


def certificate_path(home: Path) -> Path:
    return home / CERTIFICATE_FILE


def node_certificate_path(home: Path) -> Path:
    return home / NODE_CERTIFICATE_FILE


def ensure_certificate(home: Path, identity: SigningIdentity) -> Path:
    """Write the node's two certificates (homes made before TLS get them on first start);
    the browsers' one's path. Both are public and a pure function of the node key; a file
    that does not match the key (copied, edited) is written again."""
    _write_if_changed(node_certificate_path(home), certificate_pem(make_certificate(identity.seed)))
    browser = certificate_pem(make_browser_certificate(identity.seed))
    return _write_if_changed(certificate_path(home), browser)


def _write_if_changed(path: Path, pem: bytes) -> Path:
    try:
        if path.read_bytes() == pem:
            return path
    except FileNotFoundError:
        pass
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(pem)
    os.replace(temporary, path)
    return path


def stored_fingerprint(home: Path) -> str | None:
    """The fingerprint of the browsers' certificate in ``home`` (no key needed); None if
    absent."""
    try:
        pem = certificate_path(home).read_text(encoding="ascii")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return fingerprint(ssl.PEM_cert_to_DER_cert(pem))


def node_fingerprint(identity: SigningIdentity) -> str:
    """The SHA-256 fingerprint of the certificate browsers are shown."""
    return certificate_fingerprint(make_browser_certificate(identity.seed))


def server_context(home: Path, identity: SigningIdentity) -> ssl.SSLContext:
    """A TLS 1.3-only server context: the browsers' certificate by default, the node key's
    own for a client that asks for ``FEDERATION_SERVER_NAME`` (every peer)."""
    browser_path = ensure_certificate(home, identity)
    own = _context(home, node_certificate_path(home), encrypted_private_key_pem, identity.seed)
    browser = _context(home, browser_path, encrypted_browser_key_pem, identity.seed)
    return with_federation_name(browser, own)


def _context(
    home: Path, certificate: Path, key_pem: Callable[[bytes, bytes], bytes], seed: bytes
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    password = secrets.token_bytes(32)
    with _key_file(key_pem(seed, password), home) as key_path:
        context.load_cert_chain(certificate, key_path, password=password)
    return context


def external_context(certificate: Path, key: Path) -> ssl.SSLContext:
    """A TLS 1.3-only server context from an operator's own certificate and key files
    (``[server] certificate`` and ``key``: a certificate for a domain name)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(certificate, key)
    return context


@contextmanager
def _key_file(pem: bytes, home: Path) -> Iterator[str]:
    """A path OpenSSL can read ``pem`` from, gone when the block ends."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("rhizome-tls-key", os.MFD_CLOEXEC)
        try:
            os.write(fd, pem)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    fd, name = tempfile.mkstemp(dir=home, prefix=".tls-key-")  # 0600 by mkstemp
    try:
        os.write(fd, pem)
        os.close(fd)
        yield name
    finally:
        os.unlink(name)


PLAIN_HTTP_WARNING = N_(  # translated where a person reads it; logs and JSON keep English
    "[federation] allow_plain_http is on: lessons sent to peers at http:// addresses can be "
    "read by anyone on the way. Use it in a lab only."
)


def server_tls(node: Node) -> tuple[ssl.SSLContext | None, str, str]:
    """What ``serve`` listens with: the TLS context (None for plain HTTP behind a proxy),
    the URL scheme and the fingerprint to show (of the node's own certificate: peers pin
    its key, even when a domain's certificate faces browsers)."""
    config = node.config
    shown = node_fingerprint(node.identity)
    if not config.tls:
        return None, "http", shown
    home, identity = node.paths.root, node.identity
    if config.certificate:
        ensure_certificate(home, identity)
        own = _context(home, node_certificate_path(home), encrypted_private_key_pem, identity.seed)
        domain = external_context(Path(config.certificate), Path(config.key))
        return with_federation_name(domain, own), "https", shown
    return server_context(home, identity), "https", shown


def with_federation_name(domain: ssl.SSLContext, own: ssl.SSLContext) -> ssl.SSLContext:
    """``domain`` for browsers (a domain's certificate, or the node's browser one); the node
    key's own certificate for peers, who ask for the server name ``FEDERATION_SERVER_NAME``
    (SNI) and pin the node key."""

    def choose(connection: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        if name == FEDERATION_SERVER_NAME:
            connection.context = own

    domain.sni_callback = choose
    return domain
