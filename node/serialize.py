"""The JSON shapes of records, shared by the CLI's ``--json`` output and the HTTP API."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import sqlite_utils

from archive.errors import UnknownRecord
from archive.event_log import Event
from archive.key_store import current_period
from archive.queries import RecordSummary, history, load_record, record_summary, translations
from archive.record import Consent, Label
from archive.search import SearchHit, mark_hits
from federation.exchanges import last_exchange
from federation.peers import Peer, delivery_counts, get_peer
from federation.propagation import HolderStatus
from governance.approvals import approvals_of
from governance.decision_log import LoggedDecision
from governance.decisions import Decision
from governance.members import Member
from governance.quarantine import is_quarantined
from node.attachment_words import attachment_entries
from node.details_json import details_json


def iso_time(seconds: int | None) -> str | None:
    """UTC ISO 8601 with a Z, or None."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def summary_json(record: RecordSummary) -> dict[str, Any]:
    """One record in ``list`` and ``search`` output."""
    return {
        "id": record.id,
        "title": record.title,
        "kind": record.kind,
        "language": record.language,
        "region": record.region,
        "origin": record.origin,
        "created": iso_time(record.created),
        "sensitivity": record.sensitivity,
        "summary": record.summary,
        "tags": record.tags,
        "scope": record.scope,
        "author": record.author,
        "supersedes": record.supersedes,
        "translation_of": record.translation_of,
    }


def hit_json(hit: SearchHit) -> dict[str, Any]:
    """A search hit: the record, a snippet with matches in **double asterisks**, the rank."""
    return {
        **summary_json(hit.record),
        "snippet": mark_hits(hit.snippet, "**", "**"),
        "rank": hit.rank,
    }


def consent_json(consent: Consent) -> dict[str, Any]:
    return {
        "basis": consent.basis,
        "scope": consent.scope,
        "peers": list(consent.peers),
        "regions": {"allow": list(consent.regions_allow), "deny": list(consent.regions_deny)},
        "reshare": consent.reshare,
        "expires": iso_time(consent.expires),
        "purposes": list(consent.purposes),
        "subjects": [
            {
                "pseudonym": subject.pseudonym,
                "share": subject.share,
                "recorded": subject.recorded,
                "photographed": subject.photographed,
                "expires": iso_time(subject.expires),
                "withdrawn": subject.withdrawn,
            }
            for subject in consent.subjects
        ],
    }


def label_json(label: Label) -> dict[str, str]:
    return {"type": label.type, "name": label.name, "community": label.community}


def lesson_detail(
    db: sqlite_utils.Database, record_id: str, local_node: str, now: int | None = None
) -> dict[str, Any]:
    """``lesson show --json`` and ``GET /api/v1/lessons/{id}``: the record verified again as
    it is read, its versions, translations, approvals and quarantine state."""
    summary = record_summary(db, record_id)
    lesson = load_record(db, record_id).lesson
    author = summary.author if summary.origin == local_node else None
    return {
        **summary_json(summary),
        "body": lesson.body,
        "consent": consent_json(lesson.consent),
        "labels": [label_json(label) for label in lesson.labels],
        "received_from": summary.received_from,
        "quarantined": is_quarantined(db, record_id),
        "history": [summary_json(version) for version in history(db, record_id)],
        "translations": [summary_json(other) for other in translations(db, record_id)],
        "approvals": [
            {"member": a.member, "at": iso_time(a.at), "verified": a.verified, "counts": a.counts}
            for a in approvals_of(db, record_id, author)
        ],
        "attachments": attachment_entries(db, record_id, int(time.time()) if now is None else now),
        "details": details_json(lesson.details),
    }


def public_record(db: sqlite_utils.Database, record_id: str) -> RecordSummary:
    """The record, if a reader who has not signed in may see it (consent scope ``public``,
    not waiting in quarantine); any other id is unknown to them."""
    summary = record_summary(db, record_id)
    if summary.scope != "public" or is_quarantined(db, record_id):
        raise UnknownRecord("no record has this id here")
    return summary


def public_lesson_detail(db: sqlite_utils.Database, record_id: str) -> dict[str, Any]:
    """``GET /api/v1/lessons/{id}`` for a public reader (``[server] public_read``): the lesson
    and its public versions and translations; no approvals (members' names), no peer."""
    summary = public_record(db, record_id)
    lesson = load_record(db, record_id).lesson
    return {
        **summary_json(summary),
        "body": lesson.body,
        "consent": consent_json(lesson.consent),
        "labels": [label_json(label) for label in lesson.labels],
        "history": [summary_json(v) for v in history(db, record_id) if v.scope == "public"],
        "translations": [
            summary_json(other) for other in translations(db, record_id) if other.scope == "public"
        ],
    }


# ---- federation and governance: the CLI's --json output and the API share these ----------


def peer_identity_json(peer: Peer) -> dict[str, Any]:
    """Who a peer is and where it stands: the fields every peer answer starts with."""
    return {
        "id": peer.node_id,
        "name": peer.name,
        "region": peer.region,
        "url": peer.url,
        "status": peer.status,
    }


def peer_json(db: sqlite_utils.Database, peer: Peer) -> dict[str, Any]:
    counts = delivery_counts(db, peer.node_id)
    key, rotated_at = current_period(db, peer.node_id)
    return {
        **peer_identity_json(peer),
        "current_key": key,  # the id stays the first key's; this one signs now
        "rotated": iso_time(rotated_at),
        "added": iso_time(peer.added_at),
        "last_exchange": iso_time(last_exchange(db, peer.node_id, peer.last_sync)),
        "last_sync": iso_time(peer.last_sync),
        "last_error": peer.last_error,
        "sent": counts["sent"],
        "received": counts["received"],
        "strikes": peer.strikes,
    }


def holder_json(db: sqlite_utils.Database, holder: HolderStatus) -> dict[str, Any]:
    peer = get_peer(db, holder.node)
    return {
        "node": holder.node,
        "name": None if peer is None else peer.name,
        "status": holder.status,
        "at": iso_time(holder.at),
        "direct": holder.direct,
        "verified": holder.verified,
        "attempts": holder.attempts,
        "evidence": holder.evidence,
    }


def explanation_json(record_id: str, peer: Peer, decision: Decision) -> dict[str, Any]:
    return {
        "record": record_id,
        "peer": peer.node_id,
        "decision": "allow" if decision.allowed else "deny",
        "reasons": [{"code": r.code, "text": r.text, "allows": r.allows} for r in decision.reasons],
        "policy_hash": decision.policy_hash,
    }


def decision_json(entry: LoggedDecision) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": iso_time(entry.at),
        "direction": entry.direction,
        "record": entry.record_id,
        "peer": entry.peer_id,
        "decision": "allow" if entry.allowed else "deny",
        "reasons": entry.reasons,
        "policy_hash": entry.policy_hash,
    }


def event_json(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": iso_time(event.at),
        "kind": event.kind,
        "subject": event.subject,
        "detail": event.detail,
        "hash": event.hash.hex(),
    }


def member_json(member: Member) -> dict[str, Any]:
    return {
        "name": member.name,
        "roles": list(member.roles),
        "key": member.public_key.hex(),
        "added": iso_time(member.added_at),
    }
