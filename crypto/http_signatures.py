"""HTTP Message Signatures (RFC 9421) on federation requests, made with the node key.

Every federation request carries four headers (``A`` is the sender's node id, ``B`` the
recipient's)::

    Rhizome-Recipient: B
    Content-Digest:  sha-256=:<base64 SHA-256 of the body>:          (RFC 9530, also for b"")
    Signature-Input: rhizome=("@method" "@path" "@query" "content-digest" "rhizome-recipient");
                     created=1780000000;
                     keyid="A";alg="ed25519";nonce="<16 random bytes>";tag="rhizome/federation/v1"
    Signature:       rhizome=:<base64 Ed25519 signature over the RFC 9421 signature base>:

The signature base is built by the ``http-message-signatures`` library, never by hand.

What is covered, and why:

* ``@method`` and ``@path`` say what the request does; ``content-digest`` binds the body.
* ``@query`` too: federation endpoints take cursors and limits in the query string, and an
  unsigned query could be changed by anyone who handles the request on its way (a proxy).
  A URL without a query has ``@query`` = ``?``, so the component always exists.
* Not ``@authority``, ``@scheme`` or ``@target-uri``: behind a reverse proxy the receiving
  node sees another host and scheme than the sender dialled. Instead the sender names the
  node it means in a signed ``Rhizome-Recipient`` header (its node id), and the receiver
  refuses a request meant for another node: B cannot replay to C what A signed for B.
* ``tag`` names this profile (domain separation, as the ``rhizome/record/v1`` contexts do):
  a v2 with other components gets another tag, and no other use of the key verifies here.
* ``keyid`` is the sender's node id: the public key is inside it, so checking a signature
  needs no lookup. Whether that node is a peer we trust is the caller's decision, made on the
  node id :func:`verify_request` returns.
* ``created`` must lie within ``max_skew`` of the receiver's clock and the replay memory
  (:mod:`crypto.replay_guard`) remembers signatures for that long, so a captured request
  cannot be sent again; the random ``nonce`` makes two identical requests in the same second
  sign differently.

Verifying: the library parses the signature headers (once) and checks the signature, the
tag and the covered components; what it returns is then held to this profile (one label,
exactly these components and parameters, a fresh ``created``, our node as the recipient).
Only the two fields whose shape is fixed (one 64-byte ``Signature``, one sha-256
``Content-Digest``) are matched before it, so no oddly spelled variant reaches it.
"""

from __future__ import annotations

import base64
import datetime
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cryptography.exceptions
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    MappingKeyResolver,
    VerifyResult,
    algorithms,
)

from crypto.errors import CryptoError, InvalidNodeId, RhizomeError
from crypto.node_id import node_id_from_public_key, normalize_node_id, public_key_from_node_id
from crypto.replay_guard import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_SKEW, ReplayGuard, ReplayMemory
from crypto.signature_rejected import Reason, SignatureRejected
from crypto.signing import SigningIdentity

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_SKEW",
    "Reason",
    "ReplayGuard",
    "ReplayMemory",
    "SignatureRejected",
    "SignedHead",
    "sign_request",
    "verify_request",
    "verify_request_body",
    "verify_request_head",
]

LABEL = "rhizome"
TAG = "rhizome/federation/v1"
ALGORITHM = "ed25519"
COVERED_COMPONENTS = ("@method", "@path", "@query", "content-digest", "rhizome-recipient")
RECIPIENT_HEADER = "Rhizome-Recipient"
DIGEST_ALGORITHM = "sha-256"
NONCE_BYTES = 16
# Our own headers are under 400 characters; the cap stops a peer from making us parse megabytes.
MAX_HEADER_LENGTH = 4096

_PARAMETERS = frozenset({"created", "keyid", "alg", "nonce", "tag"})
_SIGNATURE_HEADERS = {
    "content-digest": "Content-Digest",
    "rhizome-recipient": RECIPIENT_HEADER,
    "signature-input": "Signature-Input",
    "signature": "Signature",
}
# The only spellings we accept: one 64-byte Ed25519 signature under our label, and one
# SHA-256 digest (one algorithm, one way to read the field), in padded base64.
_SIGNATURE_SHAPE = re.compile(rf"{LABEL}=:([A-Za-z0-9+/]{{86}}==):")
_DIGEST_SHAPE = re.compile(rf"{DIGEST_ALGORITHM}=:[A-Za-z0-9+/]{{43}}=:")
_COVERED = sorted(f'"{component}"' for component in COVERED_COMPONENTS)
# The library wants an absolute URL; a server only has the request target. The authority is
# not covered, so any will do, and ".invalid" can never name a real host (RFC 2606).
_ORIGIN_FORM_BASE = "https://rhizome.invalid"


@dataclass
class _Request:
    """The message shape the library reads: no body, no socket."""

    method: str
    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class SignedHead:
    """A request head whose signature verified: what the body check and the routes use, so
    nothing parses the signature headers again."""

    signer: str  # the node id in keyid, normalized
    created: int
    signature: bytes
    content_digest: str
    max_skew: int


class _CallerClockVerifier(HTTPMessageVerifier):
    """Freshness is ours to judge, against the caller's ``now`` (sans-IO, and the replay
    memory's window depends on it). The library judges ``created`` against the wall clock
    within ``max_clock_skew``; that tolerance is widened so its check never decides."""

    max_clock_skew = datetime.timedelta(days=100 * 365)


class _NodeIdKeys(HTTPSignatureKeyResolver):
    """A keyid is a node id, and the public key is inside it. ``accept`` sees the node id
    before any signature is checked and may refuse it (a stranger stops there)."""

    def __init__(self, accept: Callable[[str], object]) -> None:
        self.accept = accept

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        try:
            public_key = public_key_from_node_id(key_id)
        except InvalidNodeId as error:
            raise SignatureRejected("unknown_key", f"keyid is not a node id: {error}") from error
        self.accept(node_id_from_public_key(public_key))
        try:
            return Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError as error:
            raise SignatureRejected("unknown_key", "keyid does not hold an Ed25519 key") from error

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        raise CryptoError("this resolver only verifies")


def sign_request(
    identity: SigningIdentity,
    method: str,
    url: str,
    body: bytes,
    *,
    created: int,
    recipient: str,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers to add to a federation request: Rhizome-Recipient (``recipient``, the node
    id the request is meant for), Content-Digest, Signature-Input and Signature.

    ``url`` is absolute (or origin-form, ``/path?query``) and spelled exactly as it goes on
    the wire: the receiver checks the path and query as it receives them, percent-encoding
    included. ``nonce`` defaults to 16 random bytes in base64url; pass one only in tests.
    """
    if nonce == "":
        raise CryptoError("a signature nonce must not be empty; leave it out to get a random one")
    private_key = Ed25519PrivateKey.from_private_bytes(identity.seed)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(
            public_keys={}, private_keys={identity.key_id: private_key}
        ),
    )
    try:
        recipient = normalize_node_id(recipient)
    except InvalidNodeId as error:
        raise CryptoError(f"the recipient must be a node id: {error}") from error
    request = _Request(method, _absolute(url), {RECIPIENT_HEADER: recipient})
    try:
        signer.sign(
            request,
            key_id=identity.key_id,  # the key that signs; the receiver maps it to its node
            created=datetime.datetime.fromtimestamp(created, tz=datetime.UTC),
            nonce=secrets.token_urlsafe(NONCE_BYTES) if nonce is None else nonce,
            label=LABEL,
            tag=TAG,
            covered_component_ids=COVERED_COMPONENTS,
            body=body,
        )
    except HTTPMessageSignaturesException as error:
        raise CryptoError(f"cannot sign {method} {url}: {error}") from error
    return dict(request.headers)


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    replay_guard: ReplayMemory,
    recipient: str,
    max_skew: int = DEFAULT_MAX_SKEW,
) -> str:
    """Check a federation request's signature; return the signer's node id (normalized).

    ``url`` is the request target as received (``/path?query``, e.g. aiohttp's
    ``request.raw_path``) or an absolute URL. Raises :class:`SignatureRejected`. The replay
    memory remembers only requests that passed all other checks, so forgeries cannot fill it
    (anyone can mint a node key, so its size bound still matters). The caller caps the body
    before this hashes it, and decides whether the node is a peer.
    """
    _check_window(max_skew, replay_guard)  # a programming error: said before anything else
    head = verify_request_head(
        method, url, headers, now=now, recipient=recipient, max_skew=max_skew
    )
    return verify_request_body(head, body, now=now, replay_guard=replay_guard)


def verify_request_head(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    now: int,
    recipient: str,
    max_skew: int = DEFAULT_MAX_SKEW,
    accept: Callable[[str], object] = lambda node_id: None,
) -> SignedHead:
    """The checks that need no body: the signature covers the ``Content-Digest`` header, not
    the body, so it can be verified before a byte of the body is read, and only the key's
    holder makes the receiver read one. ``accept`` is called with the claimed node id before
    the signature is checked and may raise (the routes refuse a node that is not a peer).
    :func:`verify_request_body` must still run on the body (the digest, the replay memory)."""
    fields = _signature_fields(headers)
    signature = _signature_bytes(fields["signature"])
    if not _DIGEST_SHAPE.fullmatch(fields["content-digest"]):
        shape = f"Content-Digest must be one {DIGEST_ALGORITHM} digest"
        raise SignatureRejected("malformed", shape)
    result = _verified(_Request(method, _absolute(url), fields), accept)
    created, keyid = _check_profile(result)
    _check_fresh(created, now, max_skew)
    if fields["rhizome-recipient"] != normalize_node_id(recipient):
        raise SignatureRejected("wrong_recipient", "the request was signed for another node")
    signer = normalize_node_id(keyid)  # the resolver proved keyid is a node id
    return SignedHead(signer, created, signature, fields["content-digest"], max_skew)


def verify_request_body(
    head: SignedHead, body: bytes, *, now: int, replay_guard: ReplayMemory
) -> str:
    """The body against the signed digest, then the replay memory; the signer's node id."""
    _check_window(head.max_skew, replay_guard)
    try:
        ContentDigest.verify(head.content_digest, body)
    except InvalidSignature as error:
        raise SignatureRejected(
            "digest_mismatch", "Content-Digest does not match the body"
        ) from error
    replay_guard.check_and_remember(head.signature, head.created, now)
    return head.signer


def _check_window(max_skew: int, replay_guard: ReplayMemory) -> None:
    if max_skew > replay_guard.window:
        # The guard would forget a signature while it is still fresh enough to be replayed.
        raise ValueError(f"max_skew {max_skew} exceeds the replay guard's {replay_guard.window} s")


def _absolute(url: str) -> str:
    return _ORIGIN_FORM_BASE + url if url.startswith("/") else url


def _signature_fields(headers: Mapping[str, str]) -> dict[str, str]:
    """The signature headers, looked up without regard to case, each capped."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key not in _SIGNATURE_HEADERS:
            continue
        if key in found:
            # Two values and one signature: we could not tell which one the signer meant.
            raise SignatureRejected("malformed", f"{_SIGNATURE_HEADERS[key]} appears twice")
        if len(value) > MAX_HEADER_LENGTH:
            raise SignatureRejected(
                "malformed", f"{_SIGNATURE_HEADERS[key]} is over {MAX_HEADER_LENGTH} characters"
            )
        found[key] = value.strip(" \t")  # as a structured-field parser reads it
    if missing := [shown for key, shown in _SIGNATURE_HEADERS.items() if key not in found]:
        raise SignatureRejected("missing", f"the request has no {', '.join(missing)} header")
    return found


def _signature_bytes(value: str) -> bytes:
    if not (match := _SIGNATURE_SHAPE.fullmatch(value)):
        raise SignatureRejected(
            "malformed", f'Signature must be one 64-byte :base64: value labelled "{LABEL}"'
        )
    return base64.b64decode(match[1], validate=True)


def _verified(request: _Request, accept: Callable[[str], object]) -> VerifyResult:
    """The library's verification of our one signature (by tag), covering our components."""
    verifier = _CallerClockVerifier(
        signature_algorithm=algorithms.ED25519, key_resolver=_NodeIdKeys(accept)
    )
    try:
        results = verifier.verify(
            request, max_age=None, expect_tag=TAG, require_components=COVERED_COMPONENTS
        )
    except HTTPMessageSignaturesException as error:
        cause = error.__cause__
        if isinstance(cause, RhizomeError):  # our key lookup, or the caller's refusal
            raise cause from None
        if isinstance(cause, cryptography.exceptions.InvalidSignature):
            raise SignatureRejected(
                "bad_signature", "the signature does not match this request and key"
            ) from error
        raise SignatureRejected("malformed", f"cannot check the signature: {error}") from error
    if len(results) != 1:
        raise SignatureRejected("malformed", f'the request must hold one signature tagged "{TAG}"')
    return results[0]


def _check_profile(result: VerifyResult) -> tuple[int, str]:
    """``created`` and ``keyid`` of a verified signature that has exactly our shape."""
    if result.label != LABEL:
        raise SignatureRejected("malformed", f'the signature must be labelled "{LABEL}"')
    covered = sorted(name for name in result.covered_components if name != '"@signature-params"')
    if covered != _COVERED:
        raise SignatureRejected(
            "malformed", f"the signature must cover exactly {' '.join(COVERED_COMPONENTS)}"
        )
    parameters = result.parameters
    if set(parameters) != _PARAMETERS:
        expected = ", ".join(sorted(_PARAMETERS))
        raise SignatureRejected("malformed", f"Signature-Input parameters must be {expected}")
    created, keyid, nonce = parameters["created"], parameters["keyid"], parameters["nonce"]
    if not (isinstance(nonce, str) and nonce):
        raise SignatureRejected("malformed", "nonce must be a non-empty string")
    if parameters["alg"] != ALGORITHM:
        raise SignatureRejected("malformed", f'alg must be "{ALGORITHM}"')
    if not (type(created) is int and isinstance(keyid, str)):  # the library checks these too
        raise SignatureRejected("malformed", "created must be an integer and keyid a string")
    return created, keyid


def _check_fresh(created: int, now: int, max_skew: int) -> None:
    if abs(created - now) > max_skew:
        when = "old" if created < now else "in the future"
        raise SignatureRejected(
            "stale",
            f"created is {abs(created - now)} s {when}; clocks must agree within {max_skew} s",
        )
