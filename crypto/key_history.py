"""Verifying a node's key history: statements in, the keys that speak for the node out.

Sans-IO and pure: :func:`verify_history` takes every statement known about one node (in any
order, duplicates harmless) and the time this node first saw each of them, and answers which
chain wins, which key is current, which keys are retired, suspect or overridden, and whether
the history has a **fork** (two statements that follow one statement, and no recovery that
settles it). A fork is evidence, not an error: the caller keeps both signed statements, shows
them and stops trusting the node until an operator decides.

The recovery window (did:plc's rule, 72 hours): a recovery statement overrides the rotations
that follow the same statement if this node saw them at most ``window`` seconds before it saw
the recovery. The times are *ours* (first seen here), never the statements' own ``at``, so a
thief who back-dates a rotation cannot lock the owner out by claiming it is old.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from crypto.key_statements import (
    GENESIS,
    RECOVERY,
    ROTATION,
    InvalidKeyStatement,
    KeyStatement,
    open_statement,
)

RECOVERY_WINDOW = 72 * 3600
_SeenAt = Callable[[bytes], int]  # statement id -> when this node first saw it
MAX_STATEMENTS = 256  # per node: a rotation a week for five years, with room for evidence

VALID = "valid"
RETIRED = "retired"  # an earlier key, used after the node moved on
SUSPECT = "suspect"  # the recovery named it: signed at/after the moment it was compromised
UNKNOWN = "unknown"  # never on the chain (or only on an overridden branch)


@dataclass(frozen=True)
class KeyPeriod:
    """One key of the chain: it spoke for the node from ``since`` until ``until`` (None:
    still current); ``suspect_since`` when a recovery said it was compromised then."""

    key: bytes
    since: int
    until: int | None
    suspect_since: int | None
    introduced_by: bytes  # the statement id that made it current


@dataclass(frozen=True)
class KeyHistory:
    """The verified history of one node."""

    node: bytes
    chain: tuple[KeyStatement, ...]  # genesis first, the head last
    periods: tuple[KeyPeriod, ...]
    overridden: tuple[KeyStatement, ...] = ()  # rotations a recovery overrode
    fork: tuple[KeyStatement, KeyStatement] | None = None
    statements: tuple[KeyStatement, ...] = field(default=(), repr=False)  # all, verified

    @property
    def head(self) -> KeyStatement | None:
        return self.chain[-1] if self.chain else None

    @property
    def current_key(self) -> bytes:
        return self.chain[-1].key if self.chain else self.node

    @property
    def recovery_key(self) -> bytes | None:
        return self.chain[-1].recovery if self.chain else None

    @property
    def overridden_keys(self) -> frozenset[bytes]:
        on_chain = {period.key for period in self.periods}
        return frozenset(s.key for s in self.overridden if s.key not in on_chain)

    def standing(self, key: bytes, signed_at: int) -> str:
        """How far ``key`` speaks for the node for something signed at ``signed_at``."""
        for period in reversed(self.periods):
            if period.key != key:
                continue
            if period.suspect_since is not None and signed_at >= period.suspect_since:
                return SUSPECT
            if period.until is not None and signed_at > period.until:
                return RETIRED
            return VALID
        return UNKNOWN


def verify_history(
    node: bytes,
    raws: Iterable[bytes],
    *,
    now: int,
    seen: Mapping[bytes, int] | None = None,
    window: int = RECOVERY_WINDOW,
) -> KeyHistory:
    """Verify every statement about ``node``; raise :class:`InvalidKeyStatement` when one is
    forged, belongs to another node, or follows a statement nobody showed us."""
    statements = _open_all(node, raws)
    seen_at = dict(seen or {})
    by_id = {s.statement_id: s for s in statements}
    geneses = [s for s in statements if s.kind == GENESIS]
    if len(geneses) != 1:
        raise InvalidKeyStatement("a key history has exactly one genesis statement")
    children: dict[bytes, list[KeyStatement]] = {}
    for statement in statements:
        if statement.kind == GENESIS:
            continue
        parent = by_id.get(statement.prev)
        if parent is None:
            raise InvalidKeyStatement(
                f"key statement {statement.id_hex[:12]} follows one we were never shown"
            )
        check_link(parent, statement)
        children.setdefault(parent.statement_id, []).append(statement)
    return _walk(node, geneses[0], children, statements, lambda s: seen_at.get(s, now), window)


def check_link(parent: KeyStatement, statement: KeyStatement) -> None:
    """The rules between a statement and the one it follows."""
    where = f"key statement {statement.id_hex[:12]}"
    if statement.seq != parent.seq + 1:
        raise InvalidKeyStatement(f"{where}: seq {statement.seq} does not follow {parent.seq}")
    if statement.at < parent.at:
        raise InvalidKeyStatement(f"{where}: signed before the statement it follows")
    if statement.kind == ROTATION:
        if statement.signer != parent.key:
            raise InvalidKeyStatement(f"{where}: a rotation not signed by the current key")
        if statement.recovery != parent.recovery:
            raise InvalidKeyStatement(f"{where}: a rotation may not change the recovery key")
    elif statement.kind == RECOVERY and statement.signer != parent.recovery:
        raise InvalidKeyStatement(f"{where}: a recovery not signed by the recovery key")


def _open_all(node: bytes, raws: Iterable[bytes]) -> list[KeyStatement]:
    found: dict[bytes, KeyStatement] = {}
    for raw in raws:
        statement = open_statement(raw)
        if statement.node != node:
            raise InvalidKeyStatement("a key statement about another node")
        found.setdefault(statement.statement_id, statement)
        if len(found) > MAX_STATEMENTS:
            raise InvalidKeyStatement(f"a key history holds at most {MAX_STATEMENTS} statements")
    return sorted(found.values(), key=lambda s: (s.seq, s.statement_id))


def _walk(
    node: bytes,
    genesis: KeyStatement,
    children: dict[bytes, list[KeyStatement]],
    statements: list[KeyStatement],
    seen_at: _SeenAt,
    window: int,
) -> KeyHistory:
    chain = [genesis]
    overridden: list[KeyStatement] = []
    fork = None
    while nexts := children.get(chain[-1].statement_id):
        winner, losers = _settle(nexts, seen_at, window)
        if winner is None:
            first, second = sorted(nexts, key=lambda s: (seen_at(s.statement_id), s.raw))[:2]
            fork = (first, second)
            break
        overridden.extend(_branch(losers, children))
        chain.append(winner)
    return KeyHistory(
        node, tuple(chain), _periods(chain), tuple(overridden), fork, tuple(statements)
    )


def _settle(
    nexts: list[KeyStatement], seen_at: _SeenAt, window: int
) -> tuple[KeyStatement | None, list[KeyStatement]]:
    """Which of the statements that follow one statement wins (None: a fork)."""
    if len(nexts) == 1:
        return nexts[0], []
    recoveries = [s for s in nexts if s.kind == RECOVERY]
    if len(recoveries) != 1:
        return None, nexts
    recovery = recoveries[0]
    rotations = [s for s in nexts if s is not recovery]
    recovered_at = seen_at(recovery.statement_id)
    if all(recovered_at - seen_at(s.statement_id) <= window for s in rotations):
        return recovery, rotations
    return None, nexts  # the recovery came too late for a rotation we had long accepted


def _branch(
    roots: list[KeyStatement], children: dict[bytes, list[KeyStatement]]
) -> list[KeyStatement]:
    """The overridden statements and everything that follows them."""
    found, todo = [], list(roots)
    while todo:
        statement = todo.pop()
        found.append(statement)
        todo.extend(children.get(statement.statement_id, []))
    return found


def _periods(chain: list[KeyStatement]) -> tuple[KeyPeriod, ...]:
    suspect: dict[bytes, int] = {}
    for statement in chain:
        for key, since in statement.suspect:
            suspect[key] = min(since, suspect.get(key, since))
    periods = []
    for index, statement in enumerate(chain):
        until = chain[index + 1].at if index + 1 < len(chain) else None
        periods.append(
            KeyPeriod(
                statement.key, statement.at, until, suspect.get(statement.key),
                statement.statement_id,
            )
        )  # fmt: skip
    return tuple(periods)


def genesis_only(node: bytes) -> KeyHistory:
    """What we know of a node that never showed us a history: its first key, current."""
    return KeyHistory(node, (), (KeyPeriod(node, 0, None, None, b""),))
