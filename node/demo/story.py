"""The demo's story, told through the real code paths, one plain-words step at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp

from archive.lesson_file import parse_lesson_file
from archive.store import has_record
from federation.client import PeerClient
from federation.propagation import HolderStatus, receipt_status, revoke
from federation.revocation import Actor
from federation.sharing import Offer
from federation.sync import sync_with_peer
from governance.approvals import approve
from node.cli.revoke_commands import tell_holders_now
from node.demo import samples_folder
from node.demo.hubs import Hub, add_member, pair
from node.importer import import_folder

Say = Callable[[str], None]

DEBRIEF = """---
title: Debrief circle after the river march
kind: after_action_review
summary: What our marshals learned in the hour after the march, and how we held the circle.
sensitivity: medium
tags: [debrief, marshals, safety]
consent:
  scope: federation
  purposes: [training]
---
We met within the hour, in a quiet room away from the square. Everyone spoke once before
anyone spoke twice. Three lessons: hydrate the marshals first, name the people who carried
the most, and write down what went wrong before it becomes a story.
"""

ROTA = """---
title: Legal observer rota for the Manila exchange
kind: checklist
summary: "Who watches, who writes, who calls the lawyer: a rota for one exchange only."
tags: [legal, observers]
consent:
  scope: peers
  peers: [Manila Hub]
---
- Two observers per shift, never alone.
- One writes times and badge numbers; the other only watches.
- The lawyer's number is written on an arm, not kept in a phone.
"""

INTERPRETATION = """---
title: Interpretation tips that travel
kind: training_module
summary: Whispered interpretation, the slow-down card and pauses that let everyone follow.
tags: [interpretation, language-access]
consent:
  scope: federation
  reshare: true
  purposes: [training]
---
Give every interpreter a slow-down card. Pause after each point. Seat interpreters beside
the people they serve, not at the back.
"""

HOME_STORY = """---
title: The night we took the photo down
kind: story
summary: A participant's story that stays on this hub, as they asked.
sensitivity: high
tags: [consent, photos]
---
This story stays here. The person it belongs to agreed that our own facilitators may read
it when they prepare trainings on consent, and nothing more.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def add(hub: Hub, folder: Path, name: str, text: str, author: str) -> str:
    path = write(folder, name, text)
    draft = parse_lesson_file(path.read_bytes(), str(path))
    lesson = hub.node.lesson_from_draft(draft, str(path), author)
    return hub.node.writer.add_lesson(lesson, str(path)).id_hex


def explain(hub: Hub, record_id: str, other: Hub) -> str:
    node = hub.node
    decision = Offer(node.db, node.node_id, node.policy(), node.now()).explain(
        record_id, hub.peer(other)
    )
    assert decision is not None
    verdict = "ALLOW" if decision.allowed else "DENY"
    reasons = "; ".join(reason.text for reason in (decision.denials or decision.reasons))
    return f"{verdict} — {reasons}"


async def sync(hub: Hub, other: Hub) -> str:
    async with aiohttp.ClientSession() as session:
        report = await sync_with_peer(PeerClient(hub.node.local_node(), session), hub.peer(other))
    if report.errors:
        return f"sync failed: {'; '.join(report.errors)}"
    return f"{report.received} received, {report.sent} sent"


def holds(hub: Hub, record_id: str) -> str:
    return "holds it" if has_record(hub.node.db, record_id) else "does not hold it"


async def run_story(hubs: list[Hub], folder: Path, say: Say) -> None:
    nairobi, manila, sao_paulo = hubs
    say("1. Pairing: Nairobi invites Manila, Manila invites São Paulo (one-time codes).")
    await pair(nairobi, manila)
    await pair(manila, sao_paulo)
    add_member(nairobi, "amina", "author")
    add_member(nairobi, "kofi", "curator")
    report = import_folder(nairobi.node, samples_folder(), "amina")
    say(f"   Nairobi's archive: {len(report.imported)} sample lessons in five languages.")

    say("2. Sharing with consent and a curator's approval.")
    debrief = add(nairobi, folder, "debrief.md", DEBRIEF, "amina")
    verdict = explain(nairobi, debrief, manila)
    say(f"   Amina adds a medium-sensitivity debrief. To Manila: {verdict}")
    node = nairobi.node
    kofi = node.member("kofi")
    approve(node.db, node.identity, kofi, node.member_identity("kofi"), debrief, False, node.now())
    say(f"   Kofi, a curator, approves it. To Manila: {explain(nairobi, debrief, manila)}")
    moved = await sync(nairobi, manila)
    say(f"   Nairobi syncs with Manila: {moved}. Manila {holds(manila, debrief)}.")

    say("3. A lesson for one peer only.")
    rota = add(nairobi, folder, "rota.md", ROTA, "amina")
    await sync(nairobi, manila)
    await sync(manila, sao_paulo)
    say(f"   The rota's consent names Manila alone. Manila {holds(manila, rota)}; "
        f"São Paulo {holds(sao_paulo, rota)}.")  # fmt: skip
    say(f"   At Manila, passing it to São Paulo: {explain(manila, rota, sao_paulo)}")

    say("4. A reshare along the chain.")
    tips = add(nairobi, folder, "tips.md", INTERPRETATION, "amina")
    await sync(nairobi, manila)
    await sync(manila, sao_paulo)
    say(f"   Its consent allows resharing: Manila {holds(manila, tips)}, São Paulo "
        f"{holds(sao_paulo, tips)}, still signed by Nairobi as its origin.")  # fmt: skip

    say("5. A lesson that stays home.")
    home = add(nairobi, folder, "home.md", HOME_STORY, "amina")
    await sync(nairobi, manila)
    verdict = explain(nairobi, home, manila)
    say(f"   A participant's story with no consent to share. To Manila: {verdict}")
    say(f"   Manila {holds(manila, home)}.")

    say("6. Consent withdrawn: Amina revokes the interpretation tips.")
    amina = node.member("amina")
    actor = Actor("amina", node.member_identity("amina"), amina.certificate)
    revoke(node.local_node(), tips, actor, "consent-withdrawn", None)
    async with aiohttp.ClientSession() as session:
        await tell_holders_now(PeerClient(node.local_node(), session))
    names = {hub.node.node_id: hub.name for hub in hubs}
    holders = await wait_for_receipts(nairobi, tips, names, expected=2)
    for holder in holders:
        say(f"   {holder}")
    say(f"   Manila {holds(manila, tips)}; São Paulo {holds(sao_paulo, tips)}.")


async def wait_for_receipts(
    hub: Hub, record_id: str, names: dict[str, str], expected: int, seconds: float = 15
) -> list[str]:
    """Purge receipts as they arrive at the origin, in words."""
    statuses: list[HolderStatus] = []
    for _ in range(int(seconds / 0.1)):
        _, statuses = receipt_status(hub.node.db, record_id)
        if sum(status.status == "purged" for status in statuses) >= expected:
            break
        await asyncio.sleep(0.1)
    return [
        f"{names.get(status.node, status.node[:7])}: {status.status}, "
        f"{'signed receipt' if status.verified else 'no receipt yet'}"
        f" ({'direct' if status.direct else 'via a peer'})"
        for status in statuses
    ]
