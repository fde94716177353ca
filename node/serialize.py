"""The JSON shapes of records, shared by the CLI's ``--json`` output and the HTTP API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from archive.queries import RecordSummary, history, load_record, record_summary, translations
from archive.record import Consent, Label
from archive.search import SearchHit, mark_hits
from governance.approvals import approvals_of
from governance.quarantine import is_quarantined


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


def lesson_detail(db: sqlite_utils.Database, record_id: str, local_node: str) -> dict[str, Any]:
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
    }
