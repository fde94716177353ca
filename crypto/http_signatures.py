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
* ``created`` must lie within ``max_skew`` of the receiver's clock and :class:`ReplayGuard`
  remembers signatures for that long, so a captured request cannot be sent again; the random
  ``nonce`` makes two identical requests in the same second sign differently.
"""

from __future__ import annotations

import datetime
import heapq
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import cryptography.exceptions
import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

from crypto.errors import CryptoError, InvalidNodeId
from crypto.node_id import node_id_from_public_key, normalize_node_id, public_key_from_node_id
from crypto.signing import SIGNATURE_SIZE, SigningIdentity

LABEL = "rhizome"
TAG = "rhizome/federation/v1"
ALGORITHM = "ed25519"
COVERED_COMPONENTS = ("@method", "@path", "@query", "content-digest", "rhizome-recipient")
RECIPIENT_HEADER = "Rhizome-Recipient"
DIGEST_ALGORITHM = "sha-256"
DIGEST_SIZE = 32
NONCE_BYTES = 16
DEFAULT_MAX_SKEW = 300
DEFAULT_MAX_ENTRIES = 100_000
# Our own headers are under 400 characters; the cap stops a peer from making us parse megabytes.
MAX_HEADER_LENGTH = 4096

_PARAMETERS = frozenset({"created", "keyid", "alg", "nonce", "tag"})
_SIGNATURE_HEADERS = {
    "content-digest": "Content-Digest",
    "rhizome-recipient": RECIPIENT_HEADER,
    "signature-input": "Signature-Input",
    "signature": "Signature",
}
# The library wants an absolute URL; a server only has the request target. The authority is
# not covered, so any will do, and ".invalid" can never name a real host (RFC 2606).
_ORIGIN_FORM_BASE = "https://rhizome.invalid"

Reason = Literal[
    "missing",
    "malformed",
    "digest_mismatch",
    "stale",
    "replayed",
    "bad_signature",
    "unknown_key",
    "wrong_recipient",
]


class SignatureRejected(CryptoError):
    """A federation request's signature was refused; ``reason`` names the failed check.

    Answer 401 and do not act on the request. On the sending side: "stale" means the two
    clocks disagree (set them by NTP); "replayed" means the same signed request was sent twice
    (sign each attempt anew); anything else means the request was not made by
    :func:`sign_request` or was changed on its way.
    """

    http_status = 401
    code = "unauthenticated"

    def __init__(self, reason: Reason, message: str) -> None:
        self.reason: Reason = reason
        super().__init__(f"request signature rejected ({reason}): {message}")


@dataclass
class _Request:
    """The message shape the library reads: no body, no socket."""

    method: str
    url: str
    headers: dict[str, str]


class _CallerClockVerifier(HTTPMessageVerifier):
    """The library checks ``created`` against the wall clock. We check it against the
    caller's ``now`` before the library runs (sans-IO, testable), so its check is off."""

    def validate_created_and_expires(self, sig_input: object, max_age: object = None) -> None:
        return None


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
            public_keys={}, private_keys={identity.node_id: private_key}
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
            key_id=identity.node_id,
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
    ``request.raw_path``) or an absolute URL. Raises :class:`SignatureRejected`. The cheap
    checks run first, and the replay guard remembers only requests that passed all others,
    so forgeries cannot fill it (anyone can mint a node key, so its size bound still matters).
    The caller caps the body before this hashes it, and decides whether the node is a peer.
    """
    if max_skew > replay_guard.window:
        # The guard would forget a signature while it is still fresh enough to be replayed.
        raise ValueError(f"max_skew {max_skew} exceeds the replay guard's {replay_guard.window} s")
    fields = _signature_fields(headers)
    created, keyid = _parse_signature_input(fields["signature-input"])
    signature = _parse_signature(fields["signature"])
    public_key = _public_key(keyid)
    _check_fresh(created, now, max_skew)
    _check_digest(fields["content-digest"], body)
    _check_signature(_Request(method, _absolute(url), fields), keyid, public_key)
    if fields["rhizome-recipient"] != normalize_node_id(recipient):
        raise SignatureRejected("wrong_recipient", "the request was signed for another node")
    replay_guard.check_and_remember(signature, created, now)
    return node_id_from_public_key(public_key)


def verify_request_head(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    now: int,
    recipient: str,
    max_skew: int = DEFAULT_MAX_SKEW,
) -> str:
    """The checks of :func:`verify_request` that need no body: the signature covers the
    ``Content-Digest`` header, not the body, so it can be verified before a byte of the body
    is read, and only the key's holder makes the receiver read one. :func:`verify_request`
    must still run on the body (the digest, and the replay memory)."""
    fields = _signature_fields(headers)
    created, keyid = _parse_signature_input(fields["signature-input"])
    _parse_signature(fields["signature"])
    public_key = _public_key(keyid)
    _check_fresh(created, now, max_skew)
    _check_signature(_Request(method, _absolute(url), fields), keyid, public_key)
    if fields["rhizome-recipient"] != normalize_node_id(recipient):
        raise SignatureRejected("wrong_recipient", "the request was signed for another node")
    return node_id_from_public_key(public_key)


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
        found[key] = value
    if missing := [shown for key, shown in _SIGNATURE_HEADERS.items() if key not in found]:
        raise SignatureRejected("missing", f"the request has no {', '.join(missing)} header")
    return found


def _reject_duplicate(key: str, context: str) -> None:
    # Structured fields let a repeated key silently win; a signed field must not be ambiguous.
    raise ValueError(f"duplicate {context} key {key!r}")


def _parse_dictionary(shown: str, value: str) -> Mapping[str, object]:
    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=_reject_duplicate
        )
    except (ValueError, TypeError) as error:  # UnicodeEncodeError and StructuredFieldError
        raise SignatureRejected("malformed", f"{shown} does not parse: {error}") from error
    if not isinstance(parsed, dict):
        raise SignatureRejected("malformed", f"{shown} is not a dictionary")
    return parsed


def _labelled_member(shown: str, value: str) -> object:
    dictionary = _parse_dictionary(shown, value)
    if list(dictionary) != [LABEL]:
        raise SignatureRejected("malformed", f'{shown} must hold one signature labelled "{LABEL}"')
    return dictionary[LABEL]


def _parse_signature_input(value: str) -> tuple[int, str]:
    """``created`` and ``keyid`` of a Signature-Input that has exactly our shape."""
    member = _labelled_member("Signature-Input", value)
    if not (isinstance(member, tuple) and isinstance(member[0], list)):
        raise SignatureRejected("malformed", "Signature-Input must be a list of components")
    components, parameters = member
    covered = sorted(_bare_name(component) for component in components)
    if covered != sorted(COVERED_COMPONENTS):
        raise SignatureRejected(
            "malformed", f"the signature must cover exactly {' '.join(COVERED_COMPONENTS)}"
        )
    return _check_parameters(parameters)


def _bare_name(component: object) -> str:
    # A parameter (;sf, ;key=, ;bs) makes a component cover something else than we require.
    if isinstance(component, tuple) and isinstance(component[0], str) and component[1] == {}:
        return component[0]
    return "?"


def _check_parameters(parameters: Mapping[str, object]) -> tuple[int, str]:
    if set(parameters) != _PARAMETERS:
        expected = ", ".join(sorted(_PARAMETERS))
        raise SignatureRejected("malformed", f"Signature-Input parameters must be {expected}")
    created, keyid, nonce = parameters["created"], parameters["keyid"], parameters["nonce"]
    if type(created) is not int:  # a structured-field boolean is an int to Python
        raise SignatureRejected("malformed", "created must be an integer")
    if not isinstance(keyid, str):
        raise SignatureRejected("malformed", "keyid must be a string")
    if not (isinstance(nonce, str) and nonce):
        raise SignatureRejected("malformed", "nonce must be a non-empty string")
    if not (isinstance(parameters["alg"], str) and parameters["alg"] == ALGORITHM):
        raise SignatureRejected("malformed", f'alg must be "{ALGORITHM}"')
    if not (isinstance(parameters["tag"], str) and parameters["tag"] == TAG):
        raise SignatureRejected("malformed", f'tag must be "{TAG}"')
    return created, keyid


def _parse_signature(value: str) -> bytes:
    member = _labelled_member("Signature", value)
    if not (
        isinstance(member, tuple)
        and isinstance(member[0], bytes)
        and len(member[0]) == SIGNATURE_SIZE
        and member[1] == {}
    ):
        raise SignatureRejected("malformed", f"Signature must be {SIGNATURE_SIZE} bytes, :base64:")
    return member[0]


def _public_key(keyid: str) -> bytes:
    try:
        return public_key_from_node_id(keyid)
    except InvalidNodeId as error:
        raise SignatureRejected("unknown_key", f"keyid is not a node id: {error}") from error


def _check_fresh(created: int, now: int, max_skew: int) -> None:
    if abs(created - now) > max_skew:
        when = "old" if created < now else "in the future"
        raise SignatureRejected(
            "stale",
            f"created is {abs(created - now)} s {when}; clocks must agree within {max_skew} s",
        )


def _check_digest(value: str, body: bytes) -> None:
    """Only a single sha-256 digest is accepted: one algorithm, one way to read the field."""
    dictionary = _parse_dictionary("Content-Digest", value)
    member = dictionary.get(DIGEST_ALGORITHM)
    if not (
        len(dictionary) == 1
        and isinstance(member, tuple)
        and isinstance(member[0], bytes)
        and len(member[0]) == DIGEST_SIZE
    ):
        raise SignatureRejected(
            "malformed", f"Content-Digest must be one {DIGEST_ALGORITHM} digest"
        )
    try:
        ContentDigest.verify(value, body)
    except InvalidSignature as error:
        raise SignatureRejected(
            "digest_mismatch", "Content-Digest does not match the body"
        ) from error


def _check_signature(request: _Request, keyid: str, public_key: bytes) -> None:
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError as error:
        raise SignatureRejected("unknown_key", "keyid does not hold an Ed25519 key") from error
    verifier = _CallerClockVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={keyid: key}, private_keys={}),
    )
    try:
        verifier.verify(request, max_age=None, require_components=COVERED_COMPONENTS)
    except HTTPMessageSignaturesException as error:
        # The library wraps the Ed25519 failure; anything else is a request it cannot read.
        if isinstance(error.__cause__, cryptography.exceptions.InvalidSignature):
            raise SignatureRejected(
                "bad_signature", "the signature does not match this request and key"
            ) from error
        raise SignatureRejected("malformed", f"cannot check the signature: {error}") from error


class ReplayMemory(Protocol):
    """What :func:`verify_request` needs to refuse a replay: :class:`ReplayGuard` in memory,
    or one kept on disk so that it survives a restart (``federation.replay_memory``)."""

    @property
    def window(self) -> int:
        """Seconds a signature is remembered; at least the accepted clock skew."""
        ...

    def check_and_remember(self, signature: bytes, created: int, now: int) -> None:
        """Raise ``SignatureRejected("replayed")`` if seen before; otherwise remember it."""
        ...


class ReplayGuard:
    """The signatures accepted in the last ``window`` seconds, so none is accepted twice.

    Sans-IO: the caller passes the clock. Keyed by the signature, not the nonce: the
    signature covers the nonce and the whole request, only the key's holder can make another
    one for the same request, and re-spelling the headers does not change it. Bounded: past
    ``max_entries`` the entries with the oldest ``created`` go first; they are the nearest to
    going stale anyway, and memory stays fixed however fast valid requests arrive.
    """

    def __init__(
        self, window: int = DEFAULT_MAX_SKEW, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if window < 0 or max_entries < 1:
            raise ValueError("a replay guard needs window >= 0 and max_entries >= 1")
        self.window = window
        self.max_entries = max_entries
        self._seen: set[bytes] = set()
        self._by_created: list[tuple[int, bytes]] = []  # a heap: oldest first

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_remember(self, signature: bytes, created: int, now: int) -> None:
        """Raise ``SignatureRejected("replayed")`` if seen before; otherwise remember it."""
        # An entry may go once its created time is beyond the window: verify_request
        # refuses such a request as stale before asking us.
        while self._by_created and self._by_created[0][0] < now - self.window:
            self._forget_oldest()
        if signature in self._seen:
            raise SignatureRejected("replayed", "this signed request was already received")
        if len(self._seen) >= self.max_entries:
            self._forget_oldest()
        self._seen.add(signature)
        heapq.heappush(self._by_created, (created, signature))

    def _forget_oldest(self) -> None:
        _, signature = heapq.heappop(self._by_created)
        self._seen.discard(signature)
