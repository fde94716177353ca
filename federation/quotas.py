"""Per-peer quotas on what a peer may make this node store, and the bound on quarantine.

Every inbound path (a push, the answers to our fetches during a sync, a bundle from that
peer) goes through ``Receiver.receive``, which checks these before and after it stores a
batch, in the batch's own transaction: a batch that would go over a quota is refused whole.

- *Per period*: records and bytes stored from one peer in ``period_seconds`` (a window that
  starts with the first record of the period). Over it: :class:`QuotaExceeded` (429) with
  the seconds until the window ends.
- *In total*: bytes we hold that came from that peer. At it: :class:`StorageQuotaFull` (507).
- *Quarantine*, all peers together: records and bytes waiting for a curator. When full, new
  arrivals that would wait there are refused (507), never stored.

The counters are cheap to read: ``peer_intake`` holds one row per peer for the current
period, and ``peer_holdings`` (kept by triggers on ``records``, so every path that stores or
deletes a record keeps it exact, the CLI in another process included) one row per peer.

A refusal is logged as a warning and in the event log (once per peer and period) so the
operator learns of it. The peer earns a strike only if it ignores the retry hint: sending
again before the period it was told to wait for has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from crypto.signing import SigningIdentity
from federation.errors import QuotaExceeded, StorageQuotaFull
from federation.peers import add_strike

log = logging.getLogger("rhizome.federation")
MiB = 1024 * 1024


@dataclass(frozen=True)
class Quotas:
    """The limits (``[quotas]`` in config.toml); docs/reference/limits.md lists them."""

    period_seconds: int = 3600
    records_per_period: int = 50_000
    bytes_per_period: int = 512 * MiB
    stored_bytes: int = 4096 * MiB
    quarantine_records: int = 5_000
    quarantine_bytes: int = 256 * MiB


@dataclass(frozen=True)
class Intake:
    """One peer's counters for the current period: what it had stored here, until when it
    was told to wait, and whether it was struck for not waiting."""

    period_start: int
    records: int = 0
    bytes: int = 0
    refused_until: int = 0
    struck: int = 0


_COLUMNS = "period_start, records, bytes, refused_until, struck"


def intake_of(db: sqlite_utils.Database, peer_id: str, now: int, quotas: Quotas) -> Intake:
    row = db.execute(f"SELECT {_COLUMNS} FROM peer_intake WHERE peer_id = ?", [peer_id]).fetchone()
    if row is None or now >= row[0] + quotas.period_seconds or now < row[0]:
        return Intake(now)  # a new period (or the clock went back)
    return Intake(*row)


def _save(db: sqlite_utils.Database, peer_id: str, intake: Intake) -> None:
    db.execute(
        f"INSERT OR REPLACE INTO peer_intake (peer_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
        [
            peer_id,
            intake.period_start,
            intake.records,
            intake.bytes,
            intake.refused_until,
            intake.struck,
        ],
    )


def check_before(
    db: sqlite_utils.Database, peer_id: str, now: int, quotas: Quotas, to_quarantine: bool
) -> None:
    """Refuse at once a peer already at a quota: nothing of its batch is even verified."""
    check_after(db, peer_id, now, quotas, 0, 0, to_quarantine, at_limit_is_over=True)


def check_after(
    db: sqlite_utils.Database,
    peer_id: str,
    now: int,
    quotas: Quotas,
    records: int,
    size: int,
    to_quarantine: bool,
    at_limit_is_over: bool = False,
) -> None:
    """Raise if storing ``records`` (``size`` bytes, already in ``peer_holdings`` through the
    triggers) went over a quota; the caller's transaction then rolls the batch back."""
    intake = intake_of(db, peer_id, now, quotas)
    edge = 1 if at_limit_is_over else 0  # before a batch, being at a limit is over it
    wait = intake.period_start + quotas.period_seconds - now
    if intake.records + records + edge > quotas.records_per_period:
        raise QuotaExceeded(
            f"quota reached: this node stores at most {quotas.records_per_period:,} records "
            f"per {quotas.period_seconds:,} s from one peer; more in {wait} s",
            retry_after=wait,
        )
    if intake.bytes + size + edge > quotas.bytes_per_period:
        raise QuotaExceeded(
            f"quota reached: this node stores at most {quotas.bytes_per_period:,} bytes of "
            f"records per {quotas.period_seconds:,} s from one peer; more in {wait} s",
            retry_after=wait,
        )
    held, held_quarantined, quarantined_bytes = holdings(db, peer_id)
    if held + edge > quotas.stored_bytes:
        raise StorageQuotaFull(
            f"quota full: this node holds {quotas.stored_bytes:,} bytes of records from that "
            "peer, its limit; nothing more is stored until its operator makes room",
            retry_after=quotas.period_seconds,
        )
    if to_quarantine and (
        held_quarantined + edge > quotas.quarantine_records
        or quarantined_bytes + edge > quotas.quarantine_bytes
    ):
        raise StorageQuotaFull(
            "this node's quarantine is full (records wait there for a curator); nothing more "
            "is stored until its curators review what waits",
            retry_after=quotas.period_seconds,
        )


def holdings(db: sqlite_utils.Database, peer_id: str) -> tuple[int, int, int]:
    """Bytes held from ``peer_id``, and the whole quarantine's records and bytes."""
    row = db.execute("SELECT bytes FROM peer_holdings WHERE peer_id = ?", [peer_id]).fetchone()
    waiting = db.execute(
        "SELECT coalesce(sum(quarantined), 0), coalesce(sum(quarantined_bytes), 0) "
        "FROM peer_holdings"
    ).fetchone()
    return (int(row[0]) if row else 0), int(waiting[0]), int(waiting[1])


def count_intake(
    db: sqlite_utils.Database, peer_id: str, now: int, quotas: Quotas, records: int, size: int
) -> None:
    """Add a stored batch to the peer's counters for this period (in the batch's transaction)."""
    if records:
        intake = intake_of(db, peer_id, now, quotas)
        _save(
            db,
            peer_id,
            replace(intake, records=intake.records + records, bytes=intake.bytes + size),
        )


def note_refusal(
    db: sqlite_utils.Database,
    peer_id: str,
    now: int,
    quotas: Quotas,
    refusal: QuotaExceeded | StorageQuotaFull,
    pushed: bool,
) -> tuple[bool, bool]:
    """Remember a refusal. Returns (strike, tell): ``strike`` if the peer pushed again before
    the time it was told to wait for (once per period at most), ``tell`` if this is the
    period's first refusal of that peer, which the operator must hear of."""
    intake = intake_of(db, peer_id, now, quotas)
    strike = pushed and intake.refused_until > now and not intake.struck
    tell = intake.refused_until == 0
    until = max(intake.refused_until, now + (refusal.retry_after or quotas.period_seconds))
    _save(db, peer_id, replace(intake, refused_until=until, struck=intake.struck or strike))
    if tell:
        log.warning("refused records from a peer: %s", refusal, extra={"peer": peer_id})
    return strike, tell


@contextmanager
def refusals_noted(
    db: sqlite_utils.Database,
    identity: SigningIdentity | None,
    peer_id: str,
    now: int,
    quotas: Quotas,
    pushed: bool,
) -> Iterator[None]:
    """Around a batch's transaction: a quota refusal that rolled the batch back is
    remembered afterwards, in a transaction of its own (with a strike if the peer ignored
    an earlier retry hint, and an event the first time in a period), then raised on."""
    try:
        yield
    except (QuotaExceeded, StorageQuotaFull) as refusal:
        with transaction(db):
            strike, tell = note_refusal(db, peer_id, now, quotas, refusal, pushed)
            if strike:
                add_strike(db, peer_id, "over_quota: pushed again before its Retry-After", now)
            if tell and identity is not None:
                detail = {"peer": peer_id, "code": refusal.code, "message": str(refusal)}
                append_event(db, identity, "peer.quota_refused", peer_id, detail, now)
        raise
