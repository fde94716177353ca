"""The pages of an exchange's own work: collections (list, view, forms, PDF), evaluations
with their server-drawn plots, and follow-ups due on the home page."""

from __future__ import annotations

import re
from pathlib import Path

from archive.details import FollowUps
from archive.queries import load_record
from node.node import Node
from tests.web.conftest import Client, counts, lesson, page, post, redirected_to, signed_in

EVALUATION = {
    "exchange": "Legal observer track", "held": "2027-03-10", "participants": 24,
    "completed": 21, "action_plans": 18,
    "skills": [{"skill": "de-escalation", "before": [2, 8, 9, 4, 1], "after": [0, 1, 6, 11, 6]}],
    "incidents": [{"category": "harassment", "count": 2}],
}  # fmt: skip


async def create(client: Client, lessons: list[str], name: str = "Legal observer track") -> str:
    form = {"name": name, "cohort": "Nairobi 2027", "introduction": "Read *these*.",
            "lessons": "\n".join(lessons), "scope": "federation"}  # fmt: skip
    response = await post(client, "/collections/new", form, from_page="/collections/new")
    location = redirected_to(response)
    assert location.startswith("/collections/")
    return location.rsplit("/", 1)[1]


async def test_a_curator_builds_and_changes_a_collection_on_its_pages(
    client: Client, members: Node, tmp_path: Path
) -> None:
    public = lesson(members, tmp_path, title="Observing a march", consent={"scope": "public"})
    local = lesson(members, tmp_path, title="Stays home")
    await signed_in(client, "cora")
    collection = await create(client, [public[:8], local[:8]])
    shown = await page(client, f"/collections/{collection}")
    assert "Observing a march" in shown and "Stays home" in shown
    assert "<em>these</em>" in shown  # the introduction, rendered and sanitized
    listed = await page(client, "/collections")
    assert "Legal observer track" in listed and "2 lessons" in listed

    refused = await client.get(f"/collections/{collection}/offline.pdf", allow_redirects=False)
    assert redirected_to(refused) == f"/collections/{collection}"
    assert "consent scope local" in await page(client, f"/collections/{collection}")

    response = await post(client, f"/collections/{collection}/remove", {"lesson": local},
                          from_page=f"/collections/{collection}")  # fmt: skip
    newest = redirected_to(response).rsplit("/", 1)[1]
    assert newest != collection
    after = await page(client, f"/collections/{newest}")
    assert "Stays home" not in after
    pdf = await client.get(f"/collections/{newest}/offline.pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF")

    form = {"lessons": local[:8], "position": "1"}
    response = await post(client, f"/collections/{newest}/add", form, from_page="/collections")
    again = await page(client, redirected_to(response))
    assert again.index("Stays home") < again.index("Observing a march")


async def test_a_bad_collection_form_says_why_and_stores_nothing(
    client: Client, members: Node, tmp_path: Path
) -> None:
    await signed_in(client, "cora")
    before = counts(members)
    form = {"name": "Track", "cohort": "Nairobi", "lessons": "abcdef12", "scope": "federation"}
    response = await post(client, "/collections/new", form, from_page="/collections/new")
    assert response.status == 404
    assert "no record abcdef12" in await response.text()
    assert counts(members) == before
    assert "Nairobi" in await page(client, "/")  # the node keeps serving


async def test_authors_and_forged_forms_cannot_build_collections(
    client: Client, members: Node, tmp_path: Path
) -> None:
    public = lesson(members, tmp_path, consent={"scope": "public"})
    await signed_in(client, "ana")
    await page(client, "/collections/new", status=403)
    before = counts(members)
    form = {"name": "Track", "cohort": "Nairobi", "lessons": public}
    assert (await post(client, "/collections/new", form, from_page="/collections")).status == 403
    await signed_in(client, "cora")
    assert (await post(client, "/collections/new", form, csrf=False)).status == 403
    assert counts(members) == before


async def test_the_evaluations_page_draws_three_plots(
    client: Client, members: Node, tmp_path: Path
) -> None:
    lesson(members, tmp_path, title="Evaluation", kind="evaluation", evaluation=EVALUATION)
    shown = await page(client, "/evaluations")
    for plot in ("plot-completion", "plot-skill-gains", "plot-incidents"):
        svg = re.search(rf'<svg [^>]*id="{plot}".*?</svg>', shown, re.S)
        assert svg is not None, plot
        assert 'class="bar series-own"' in svg.group(0), plot
    assert "88%" in shown  # 21 of 24 completed
    assert "+1.2" in shown  # mean 3.92 after, 2.75 before
    assert "<script" not in shown


async def test_the_evaluations_page_without_evaluations_says_how_to_add_one(client: Client) -> None:
    assert "rhizome lesson add evaluation.md" in await page(client, "/evaluations")


async def test_the_home_page_lists_follow_ups_due(
    client: Client, members: Node, tmp_path: Path
) -> None:
    lesson(members, tmp_path, title="Next steps after Nairobi", kind="action_brief",
           milestones=[{"title": "Train three", "due": "2000-01-01"}])  # fmt: skip
    lesson(members, tmp_path, title="Far away", kind="action_brief", follow_up="2999-01-01")
    home = await page(client, "/")
    section = re.search(r'id="follow-ups-due".*?</section>', home, re.S)
    assert section is not None
    assert "Next steps after Nairobi" in section.group(0) and "overdue" in section.group(0)
    assert "Far away" not in section.group(0)


async def test_a_brief_shows_its_milestones_and_an_edit_in_the_form_keeps_them(
    client: Client, members: Node, tmp_path: Path
) -> None:
    brief = lesson(
        members, tmp_path, title="Next steps", kind="action_brief", follow_up="2027-04-15",
        milestones=[{"title": "Train three observers", "due": "2027-04-01"},
                    {"title": "Hotline card", "due": "2027-03-20", "done": True}],
    )  # fmt: skip
    await signed_in(client, "ana")
    shown = await page(client, f"/lessons/{brief}")
    section = re.search(r'id="lesson-details".*?</section>', shown, re.S)
    assert section is not None
    assert "Train three observers" in section.group(0) and "2027-04-01" in section.group(0)
    assert "done" in section.group(0) and "2027-04-15" in section.group(0)
    form = {"title": "Next steps, revised", "kind": "action_brief", "body": "Plan.\r\n",
            "sensitivity": "low", "consent_basis": "consent", "consent_scope": "local"}  # fmt: skip
    response = await post(client, f"/lessons/{brief}/edit", form)
    second = redirected_to(response).removeprefix("/lessons/")
    assert second != brief
    details = load_record(members.db, second).lesson.details
    assert isinstance(details, FollowUps) and len(details.milestones) == 2


async def test_an_evaluation_page_shows_its_numbers_and_no_edit_form(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record = lesson(members, tmp_path, title="Evaluation", kind="evaluation", evaluation=EVALUATION)
    shown = await page(client, f"/lessons/{record}")
    section = re.search(r'id="lesson-details".*?</section>', shown, re.S)
    assert section is not None and "Legal observer track" in section.group(0)
    assert "<td>24</td>" in section.group(0) and "harassment" in section.group(0)
    assert f'href="/lessons/{record}/edit"' not in shown


async def test_a_curator_edits_the_name_cohort_and_introduction(
    client: Client, members: Node, tmp_path: Path
) -> None:
    public = lesson(members, tmp_path, title="Observing a march", consent={"scope": "public"})
    await signed_in(client, "cora")
    collection = await create(client, [public[:8]])
    form = await page(client, f"/collections/{collection}/edit")
    assert 'value="Legal observer track"' in form and "Read *these*." in form
    changed = {"name": "Observer track, 2nd edition", "cohort": "Nairobi 2028",
               "introduction": "Start here.\r\n"}  # fmt: skip
    response = await post(
        client, f"/collections/{collection}/edit", changed, from_page="/collections"
    )
    newest = redirected_to(response).rsplit("/", 1)[1]
    record = load_record(members.db, newest)
    assert record.lesson.title == "Observer track, 2nd edition"
    assert record.lesson.body == "Start here.\n" and record.lesson.supersedes == bytes.fromhex(
        collection
    )
    shown = await page(client, f"/collections/{newest}")
    assert "Nairobi 2028" in shown and "Observing a march" in shown
    bad = await post(client, f"/collections/{newest}/edit", {**changed, "cohort": " "},
                     from_page="/collections")  # fmt: skip
    assert bad.status == 400 and "collection.cohort" in await bad.text()
