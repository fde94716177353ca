"""An operator's day in a real browser, across two real hubs.

Nairobi's admin signs in (a wrong password first), writes a lesson, finds it by search and
pairs with Manila through the peers pages; the curator kofi approves it, which lets it
leave, and it reaches Manila by the hubs' own background sync; the admin withdraws it and
the receipt page shows Manila purged it; Manila's search no longer finds it.
"""

from __future__ import annotations

import re
import secrets
import string
import time

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import Browsers, Hub, Hubs

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SYNC_SECONDS = 20.0
RECORD_ID = re.compile(r"/lessons/([0-9a-f]{64})$")


def unique_word() -> str:
    """A word no other lesson has (letters only, so every tokenizer keeps it whole)."""
    return "zq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))


def new_page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


def sign_in(page: Page, hub: Hub, name: str, next_path: str = "/") -> None:
    page.goto(f"{hub.url}/signin?next={next_path}")
    page.get_by_label("Member name").fill(name)
    page.get_by_label("Password").fill(hub.passwords[name])
    page.locator("#sign-in").click()
    expect(page).to_have_url(f"{hub.url}{next_path}")
    expect(page.locator("#signed-in-as")).to_contain_text(name)


def sign_out(page: Page) -> None:
    page.locator("#sign-out").click()
    expect(page.locator("#sign-in-link")).to_be_visible()
    expect(page.locator("#signed-in-as")).to_have_count(0)


def test_sign_in_add_search_approve_pair_sync_revoke(hubs: Hubs, browsers: Browsers) -> None:
    nairobi, manila = hubs.a, hubs.b
    word = unique_word()
    title = f"Buddy pairs at the march {word[-4:]}"
    a = new_page(browsers.open("nairobi"))

    # -- sign in: a wrong password first, then the right one --------------------------------
    a.goto(nairobi.url)  # nothing is readable without signing in: the form comes first
    expect(a).to_have_url(re.compile(r"/signin\?next=/$"))
    a.get_by_label("Member name").fill("admin")
    a.get_by_label("Password").fill("not the admin's password")
    a.locator("#sign-in").click()
    expect(a.locator("#signin-error")).to_contain_text("do not match")
    expect(a.locator("#signed-in-as")).to_have_count(0)
    expect(a.get_by_label("Member name")).to_have_value("admin")  # kept, password not
    a.get_by_label("Password").fill(nairobi.passwords["admin"])
    a.locator("#sign-in").click()
    expect(a).to_have_url(f"{nairobi.url}/")
    expect(a.locator("#signed-in-as")).to_contain_text("admin")

    # -- add a lesson through the form ----------------------------------------------------
    a.get_by_role("link", name="Add lesson").click()
    expect(a).to_have_url(f"{nairobi.url}/lessons/new")
    a.get_by_label("Title").fill(title)
    a.get_by_label("Kind").select_option("checklist")
    a.get_by_label("Text", exact=True).fill(
        f"# Before the march\n\n- Write the pairs down.\n- Agree on a **{word}** meeting point.\n"
    )
    a.get_by_label("Tags").fill("safety, march")
    a.get_by_label("Sensitivity").select_option("medium")
    a.get_by_label("Did the people concerned agree?").select_option("consent")
    a.get_by_label("Who may receive it?").select_option("federation")
    a.locator("#save-lesson").click()
    expect(a).to_have_url(RECORD_ID)
    found = RECORD_ID.search(a.url)
    assert found is not None
    record_id = found.group(1)
    expect(a.locator("#flash")).to_contain_text("Saved")
    expect(a.locator("#lesson-title")).to_have_text(title)
    expect(a.locator("#lesson-body strong")).to_have_text(word)
    expect(a.locator("#approval-count")).to_contain_text("needs 1 curator approval")

    # -- search for the unique word from the home page and open the result ------------------
    a.goto(nairobi.url)
    a.locator("#home-search").get_by_label("Search the lessons").fill(word)
    a.locator("#home-search").get_by_role("button", name="Search").click()
    expect(a).to_have_url(re.compile(rf"/search\?q={word}$"))
    results = a.locator("#results > li")
    expect(results).to_have_count(1)
    expect(results.first.locator(".snippet")).to_contain_text(word)
    results.first.get_by_role("link", name=title).click()
    expect(a).to_have_url(f"{nairobi.url}/lessons/{record_id}")
    expect(a.locator("#lesson-body")).to_contain_text(word)

    # -- pair: an invite on Nairobi's peers page, pasted into Manila's ------------------------
    a.get_by_role("link", name="Peers").click()
    expect(a.locator("#no-peers")).to_be_visible()
    a.locator("#invite-button").click()
    code = a.locator("#invite-code").input_value().strip()
    assert code.startswith("rhz1-"), code
    expect(a.locator("#invite-qr svg")).to_be_visible()

    b = new_page(browsers.open("manila"))
    sign_in(b, manila, "admin", "/peers")
    b.get_by_label("Invite code from the other hub").fill(code)
    b.locator("#pair-button").click()
    expect(b).to_have_url(f"{manila.url}/peers")
    expect(b.locator("#flash")).to_contain_text(f"Paired with {nairobi.name}")
    expect(b.locator("#peer-list")).to_contain_text(nairobi.name)
    a.goto(f"{nairobi.url}/peers")
    nairobi_peer = a.locator("#peer-list > li")
    expect(nairobi_peer).to_have_count(1)
    expect(nairobi_peer).to_contain_text(manila.name)
    expect(nairobi_peer.locator(".status-badge")).to_have_text("active")

    # Paired, but unapproved: the lesson still stays home.
    a.goto(f"{nairobi.url}/lessons/{record_id}")
    expect(a.locator("#sharing-decisions")).to_contain_text(f"{manila.name}: stays here")

    # -- the curator kofi approves it from its own page, with its consent in view -----------
    sign_out(a)
    sign_in(a, nairobi, "kofi", "/approvals")
    queued = a.locator("#approval-queue > li").filter(has_text=title)
    expect(queued).to_contain_text("0 of 1 approval")
    expect(queued).to_contain_text(f"Approval is all that keeps it from {manila.name}")
    expect(queued.get_by_role("button")).to_have_count(0)  # never one click from the list
    queued.get_by_role("link", name=f"Read it and its consent, then approve {title}").click()
    expect(a).to_have_url(f"{nairobi.url}/lessons/{record_id}#approvals")
    expect(a.locator("#approve-consent")).to_contain_text("You approve it leaving this hub")
    expect(a.locator("#approve-consent dl")).to_be_visible()
    a.locator("#approve-button").click()
    expect(a).to_have_url(f"{nairobi.url}/lessons/{record_id}")
    expect(a.locator("#flash")).to_contain_text(f"Approved “{title}” as kofi")
    a.goto(f"{nairobi.url}/approvals")
    expect(a.locator("#approval-queue > li").filter(has_text=title)).to_have_count(0)

    # -- the approval is news: Manila pulls the lesson by itself (no sync button) ------------
    deadline = time.monotonic() + SYNC_SECONDS
    while True:
        b.goto(f"{manila.url}/search?q={word}")
        if b.locator("#results > li").count() > 0 or time.monotonic() > deadline:
            break
        b.wait_for_timeout(500)
    expect(b.locator("#results > li"), f"{manila.name} never received the lesson").to_have_count(1)
    b.get_by_role("link", name=title).click()
    expect(b).to_have_url(f"{manila.url}/lessons/{record_id}")
    expect(b.locator("#lesson-body")).to_contain_text(word)
    expect(b.locator("#facts dt:text-is('Received from') + dd")).to_have_text(nairobi.name)
    a.goto(f"{nairobi.url}/lessons/{record_id}")
    expect(a.locator("#deliveries")).to_contain_text(f"Sent to {manila.name}")

    # -- Manila's operator: Sync now on the Peers page, then the Status page ------------------
    b.goto(f"{manila.url}/peers")
    b.get_by_role("button", name=f"Sync now with {nairobi.name}").click()
    expect(b.locator("#flash")).to_contain_text(
        re.compile(rf"{re.escape(nairobi.name)}: received \d+, sent \d+ \(ok\)")
    )
    expect(b.locator("#peer-list > li .last-exchange")).to_contain_text("we synced with them")
    b.get_by_role("link", name="Status").click()
    expect(b).to_have_url(f"{manila.url}/status")
    expect(b.locator("#status-peers tbody tr").filter(has_text=nairobi.name)).to_contain_text(
        "working"
    )
    # On a phone (390 px wide) the Status and Policy pages wrap instead of scrolling sideways.
    b.set_viewport_size({"width": 390, "height": 844})
    for path in ("/status", "/policy", "/peers"):
        b.goto(f"{manila.url}{path}")
        overflow = b.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 390 px"
    b.set_viewport_size({"width": 1280, "height": 900})

    # -- withdraw it on Nairobi, with a reason; the receipt page shows Manila purged it -------
    sign_out(a)
    sign_in(a, nairobi, "admin", f"/lessons/{record_id}")
    a.locator("#revoke summary").click()
    expect(a.locator("#revoke-no-undo")).to_contain_text("This cannot be undone.")
    a.get_by_label("Why is it withdrawn?").select_option("consent-withdrawn")
    a.get_by_label("Note (optional").fill("The pairs asked for it to be taken down.")
    a.locator("#revoke-button").click()
    expect(a).to_have_url(re.compile(rf"/revocations/{record_id}"))
    expect(a.locator("#flash")).to_contain_text(f"Withdrawn “{title}”")
    manila_row = a.locator("#receipts tbody tr").filter(has_text=manila.name)
    # No reload from the test: the page reloads itself while a receipt is pending.
    expect(manila_row).to_contain_text("Purged", timeout=SYNC_SECONDS * 1000)
    expect(a.locator("#receipt-summary")).to_contain_text("All 1 hub has confirmed")
    expect(a.locator("head meta[http-equiv='refresh']")).to_have_count(0)

    # -- Manila's search no longer finds the word ------------------------------------------
    b.goto(f"{manila.url}/search?q={word}")
    expect(b.locator("#result-count")).to_have_text("No lesson matches.")
    expect(b.locator("#results")).to_have_count(0)
    b.goto(f"{manila.url}/lessons/{record_id}")
    expect(b).to_have_url(f"{manila.url}/revocations/{record_id}")
    expect(b.locator("#revocation-facts")).to_contain_text("its content is gone")
    a.goto(f"{nairobi.url}/search?q={word}")
    expect(a.locator("#result-count")).to_have_text("No lesson matches.")
