"""``rhizome key recover`` with no backup at all: a new home for an existing node id.

The operator has the recovery code (or K stewards' shares), the hub's node id and the
addresses of one or more peers (``NODE_ID@URL``, or an invite code of theirs). Everything
happens in a private folder beside the new home, renamed into place only when at least one
peer took the recovery, so a wrong code or unknown id leaves nothing behind:

1. a home is made with a fresh node key for the old node id;
2. each peer is asked for the node's key history (signed by the recovery key,
   federation/recovery.py), so the recovery extends the chain peers know;
3. the recovery statement is signed by the recovery key (as ``key recover`` does in a home);
4. each peer is handed the recovery (signed by the new key) and answers with what pairing
   needs: it becomes a peer again, with its own key history;
5. every peer is marked to relearn our withdrawals from (as after a restore) and to send
   our own records back (federation/own_records.py); the first sync does both, withdrawals
   first, so a lesson we had withdrawn does not come back.

What never left the node (``scope: local`` lessons, drafts, members' keys, attachments'
bytes) is lost without a backup; the operator is told so.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp

from archive.db import transaction
from archive.event_log import append_event
from archive.key_store import current_key, load_key_history, save_key_history, statements_of
from crypto.errors import InvalidNodeId, RhizomeError
from crypto.key_statements import KeyStatement, make_recovery
from crypto.node_id import node_id_from_public_key, normalize_node_id, public_key_from_node_id
from crypto.signing import SigningIdentity
from federation.client import PeerClient
from federation.errors import InvalidInvite
from federation.invites import decode_invite
from federation.local import Clock, LocalNode
from federation.own_records import mark_for_refetch
from federation.peers import get_peer, list_peers, save_peer
from federation.recovery import RecoveryAnswer, announce_recovery, ask_for_history
from federation.relearn import relearn_from
from federation.relearn_state import mark_restored
from federation.sync import SyncReport, sync_with_peer
from node.config import DEFAULT_HOST, DEFAULT_PORT, render_config
from node.errors import HomeError
from node.home import HomePaths, create_home
from node.keys import trusted_statement
from node.node import Node

Say = Callable[[str], None]
PLACEHOLDER = "(recovering)"


class RecoveryFailed(HomeError):
    """No peer took the recovery, so nothing was kept: no home was made and no peer changed.
    Check the node id and the recovery code (or shares), and each peer's address; call the
    peers' operators (they may have suspended your hub)."""

    code = "recovery_failed"


@dataclass(frozen=True)
class PeerAddress:
    node_id: str
    url: str
    key: bytes = b""  # the key it presents, when an invite code names one (it rotated)


@dataclass
class FreshRecovery:
    """What the recovery did, for the operator."""

    home: Path
    node_id: str
    name: str
    statement: KeyStatement
    new_recovery: SigningIdentity | None
    accepted: list[str] = field(default_factory=list)  # peer names
    refused: dict[str, str] = field(default_factory=dict)  # address -> why
    syncs: list[SyncReport] = field(default_factory=list)


def parse_peer_address(text: str) -> PeerAddress:
    """``NODE_ID@URL``, or an invite code a peer's operator made (its node id and address)."""
    if "@" in text:
        node_id, _, url = text.strip().partition("@")
        try:
            return PeerAddress(normalize_node_id(node_id), url.strip())
        except InvalidNodeId as error:
            raise HomeError(f"--peer {text[:40]!r}: {error}") from error
    try:
        code = decode_invite(text)
    except InvalidInvite as error:
        raise HomeError(
            f"--peer {text[:40]!r}: give NODE_ID@URL (the peer's node id and address) or an "
            "invite code of that peer"
        ) from error
    return PeerAddress(code.node_id, code.url, code.current_key)


@dataclass
class _Recovering:
    """The staging home and the two keys that speak during the recovery."""

    node: Node
    node_id: str
    recovery: SigningIdentity
    fresh: SigningIdentity  # the new node key, speaking for node_id
    clock: Clock

    def local(self, identity: SigningIdentity) -> LocalNode:
        config = self.node.config
        return LocalNode(
            self.node.db, identity, config.name, config.region, config.url,
            self.node.policy, self.clock, config.quotas, config.allow_plain_http,
        )  # fmt: skip


async def recover_without_backup(
    home: Path,
    *,
    node_id: str,
    recovery: SigningIdentity,
    peers: list[PeerAddress],
    session: aiohttp.ClientSession,
    say: Say,
    passphrase: str | None = None,
    compromised_since: int | None = None,
    new_recovery_key: bool = False,
    url: str | None = None,
    port: int = DEFAULT_PORT,
    clock: Clock = time.time,
) -> FreshRecovery:
    """Rebuild the home of ``node_id`` in ``home`` (empty or new) from its peers."""
    node_id = normalize_node_id(node_id)
    HomePaths(home).require_new()
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = home.parent / f".{home.name}.recovering-{secrets.token_hex(4)}"
    fresh = SigningIdentity.from_seed(
        SigningIdentity.generate().seed, public_key_from_node_id(node_id)
    )
    try:
        create_home(
            staging, name=PLACEHOLDER, region=PLACEHOLDER, language="en", url=url,
            host=DEFAULT_HOST, port=port, passphrase=passphrase, identity=fresh,
        )  # fmt: skip
        node = Node(staging, passphrase=lambda: passphrase or "", clock=clock)
        state = _Recovering(node, node_id, recovery, fresh, clock)
        try:
            done = await _recover(state, peers, session, say, compromised_since, new_recovery_key)
        finally:
            node.close()
        _require_new_again(home)
        staging.rename(home)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    done.home = home
    await _first_syncs(done, session, say, passphrase, clock)
    return done


async def _recover(
    state: _Recovering,
    peers: list[PeerAddress],
    session: aiohttp.ClientSession,
    say: Say,
    compromised_since: int | None,
    new_recovery_key: bool,
) -> FreshRecovery:
    db, now = state.node.db, int(state.clock())
    asked = PeerClient(state.local(state.recovery), session)
    answers: dict[PeerAddress, RecoveryAnswer] = {}
    refused: dict[str, str] = {}
    for peer in peers:
        say(f"Asking {peer.url} what it knows of node {state.node_id} ...")
        try:
            answer = await ask_for_history(asked, state.node_id, peer.node_id, peer.url, peer.key)
            save_key_history(db, state.node_id, answer.yours, now)
        except RhizomeError as error:
            refused[peer.url] = str(error).removeprefix(f"{peer.url}: ")
            say(f"  refused: {refused[peer.url]}")
            continue
        answers[peer] = answer
        say(f"  it knows this node as {answer.your_name!r} ({answer.your_region})")
    if not answers:
        raise RecoveryFailed(_nobody(refused))
    statement, replacement = _sign_recovery(state, compromised_since, new_recovery_key)
    new_key = node_id_from_public_key(state.fresh.public_key)
    say(f"Signed the recovery: the node key is now {new_key}")
    told = PeerClient(state.local(state.fresh), session)
    accepted: dict[PeerAddress, RecoveryAnswer] = {}
    for peer, _ in answers.items():
        say(f"Handing the recovery to {peer.url} ...")
        try:
            answer = await announce_recovery(
                told, state.node_id, statements_of(db, state.node_id), peer.node_id, peer.url,
                peer.key,
            )  # fmt: skip
        except RhizomeError as error:
            refused[peer.url] = str(error).removeprefix(f"{peer.url}: ")
            say(f"  refused: {refused[peer.url]}")
            continue
        _pair_again(state, peer, answer)
        accepted[peer] = answer
        say(f"  {answer.name} took it: paired again")
    if not accepted:
        raise RecoveryFailed(_nobody(refused))
    first = next(iter(accepted.values()))
    _finish(state, first, [peer.node_id for peer in accepted])
    return FreshRecovery(
        Path(), state.node_id, first.your_name, statement, replacement,
        [answer.name for answer in accepted.values()], refused,
    )  # fmt: skip


def _sign_recovery(
    state: _Recovering, compromised_since: int | None, new_recovery_key: bool
) -> tuple[KeyStatement, SigningIdentity | None]:
    db, now = state.node.db, int(state.clock())
    history = load_key_history(db, state.node_id, now)
    trusted = trusted_statement(history, None, compromised_since)
    if state.recovery.public_key != trusted.recovery:
        raise RecoveryFailed("this recovery key is not the one the node's key history names")
    suspect = () if compromised_since is None else ((trusted.key, compromised_since),)
    replacement = SigningIdentity.generate() if new_recovery_key else None
    statement = make_recovery(
        state.recovery, trusted, state.fresh.public_key, now, suspect,
        replacement.public_key if replacement else None,
    )  # fmt: skip
    save_key_history(db, state.node_id, [statement.raw], now)
    if current_key(db, state.node_id) != state.fresh.public_key:
        raise RecoveryFailed(
            "the peers' key histories of this node disagree (a fork): recover from a backup, "
            "or ask each peer's operator which statement to recover after"
        )
    return statement, replacement


def _pair_again(state: _Recovering, peer: PeerAddress, answer: RecoveryAnswer) -> None:
    db, now = state.node.db, int(state.clock())
    with transaction(db):
        save_peer(db, peer.node_id, answer.name, answer.region, answer.url or peer.url, now)
        if answer.statements:
            save_key_history(db, peer.node_id, answer.statements, now)
        append_event(db, state.fresh, "peer.added", peer.node_id, {"via": "recovery"}, now)


def _finish(state: _Recovering, first: RecoveryAnswer, accepted: list[str]) -> None:
    """The node's name and region as its peers knew them; withdrawals and records to
    relearn from every peer; the recovery in the event log."""
    node, now = state.node, int(state.clock())
    config = replace(node.config, name=first.your_name, region=first.your_region)
    node.paths.config.write_text(render_config(config), encoding="utf-8")
    with transaction(node.db):
        mark_restored(node.db, now)
        mark_for_refetch(node.db, accepted, now)
        detail = {"peers": accepted, "key": node_id_from_public_key(state.fresh.public_key)}
        append_event(
            node.db, state.fresh, "key.recovered_without_backup", state.node_id, detail, now
        )


async def _first_syncs(
    done: FreshRecovery, session: aiohttp.ClientSession, say: Say, passphrase: str | None,
    clock: Clock,
) -> None:  # fmt: skip
    """Withdrawals from every peer first, then a sync with each (records come back)."""
    node = Node(done.home, passphrase=lambda: passphrase or "", clock=clock)
    try:
        client = PeerClient(node.local_node(), session)
        peers = [peer for peer in list_peers(node.db) if peer.status == "active"]
        for peer in peers:
            say(f"Relearning your withdrawals from {peer.name} ...")
            try:
                learned = await relearn_from(client, peer)
                say(f"  {learned or 0} withdrawals")
            except RhizomeError as error:
                say(f"  not now ({error}); the next sync asks again")
        for peer in peers:
            say(f"Fetching your lessons back from {peer.name} ...")
            found = get_peer(node.db, peer.node_id)
            report = await sync_with_peer(client, found or peer)
            done.syncs.append(report)
            outcome = "; ".join(report.errors) or f"{report.received} lessons"
            say(f"  {outcome}")
    finally:
        node.close()


def _require_new_again(home: Path) -> None:
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise HomeError(f"{home}: something was written there meanwhile; nothing was changed")
    if home.exists():
        home.rmdir()


def _nobody(refused: dict[str, str]) -> str:
    reasons = "; ".join(f"{url}: {why}" for url, why in refused.items()) or "no peer given"
    return f"no peer took the recovery, nothing was changed ({reasons})"
