"""The actions of :mod:`node.actions`: each one decides who may, for every front end.

The CLI, the JSON API and the web pages only authenticate, read their input and show the
result; these tests call the actions directly, and ``test_front_ends_leave_the_rules_to_the_
actions`` fails when a front end does one of these writes (or decides one of these rules)
by itself again.
"""

from __future__ import annotations

import ast
import asyncio
import threading
from pathlib import Path

import pytest

from archive.queries import record_summary
from archive.tombstones import resolve_revoked_id
from crypto.signing import SigningIdentity
from federation.peer_state import PeerStateError
from federation.peers import get_peer, save_peer
from governance.approvals import is_self_approval
from governance.members import Member, MemberError, check_roles, password_hash_of
from governance.roles import NotAllowed, may_revoke
from node.actions import in_worker_thread
from node.actions.lessons import (
    AddLesson,
    ApproveLesson,
    ReviewQuarantined,
    RevokeLesson,
    accept_lesson,
    add_lesson,
    approve_lesson,
    revoke_lesson,
)
from node.actions.members import (
    AddMember,
    ChangeRole,
    RemoveMember,
    SetPassword,
    add_member,
    change_role,
    remove_from_node,
    set_password,
)
from node.actions.peers import ChangePeerStatus, InvitePeer, invite_peer, set_peer_status
from node.home import create_member
from node.node import Node, read_lesson_file
from node.passwords import WeakPassword
from node.peer_sync import peers_to_sync
from tests.conftest import write_lesson
from tests.node.conftest import logged_events

ROOT = Path(__file__).resolve().parents[2]
STAFF = {
    "amina": ("author",),
    "chidi": ("curator",),
    "tariq": ("author", "curator"),
    "sefu": ("steward",),
}


@pytest.fixture
def staff(node: Node) -> dict[str, Member]:
    for name, roles in STAFF.items():
        create_member(
            node.paths, node.db, node.identity, name, check_roles(list(roles)), None, node.now()
        )
    return {name: node.member(name) for name in ("admin", *STAFF)}


def _add(node: Node, tmp_path: Path, by: Member, title: str = "Buddy pairs") -> str:
    path = write_lesson(tmp_path, f"{title}.md", {"title": title, "kind": "checklist"})
    draft, source = read_lesson_file(path)
    intake = add_lesson(node, AddLesson(by, draft, str(path), source))
    assert intake.record_id is not None
    return intake.record_id


# ---- the rules, as governance words them ----------------------------------------------------


def test_self_approval_is_approving_what_you_wrote_here() -> None:
    assert is_self_approval("tariq", "tariq", "here", "here")
    assert not is_self_approval("chidi", "tariq", "here", "here")
    assert not is_self_approval("tariq", "tariq", "elsewhere", "here")  # a peer's tariq


def test_the_author_or_a_steward_may_withdraw_a_lesson_written_here() -> None:
    assert may_revoke("amina", ("author",), "amina")
    assert may_revoke("sefu", ("steward",), "amina")
    assert may_revoke("admin", ("admin",), "amina")
    assert not may_revoke("chidi", ("curator",), "amina")
    assert not may_revoke("sefu", ("steward",), None)  # from a peer: only its own node may


# ---- lessons --------------------------------------------------------------------------------


def test_adding_needs_the_author_role_and_takes_a_lesson_once(
    node: Node, staff: dict[str, Member], tmp_path: Path
) -> None:
    with pytest.raises(NotAllowed, match="chidi may not add lessons"):
        _add(node, tmp_path, staff["chidi"])
    first = _add(node, tmp_path, staff["amina"])
    assert _add(node, tmp_path, staff["amina"]) == first  # already here: stored once
    assert record_summary(node.db, first).author == "amina"


def test_a_curator_approves_once_and_never_their_own_lesson(
    node: Node, staff: dict[str, Member], tmp_path: Path
) -> None:
    theirs = _add(node, tmp_path, staff["amina"])
    done = approve_lesson(node, ApproveLesson(staff["chidi"], theirs[:12]))
    assert (done.record.id, done.member, done.new) == (theirs, "chidi", True)
    assert approve_lesson(node, ApproveLesson(staff["chidi"], theirs)).new is False
    with pytest.raises(NotAllowed, match="that needs the role curator"):
        approve_lesson(node, ApproveLesson(staff["admin"], theirs))
    own = _add(node, tmp_path, staff["tariq"], "Tariq's own")
    with pytest.raises(NotAllowed, match="tariq wrote this lesson and cannot approve it"):
        approve_lesson(node, ApproveLesson(staff["tariq"], own))
    approved = [subject for _, kind, subject in logged_events(node.paths.root)
                if kind == "record.approved"]  # fmt: skip
    assert approved == [theirs]


def test_only_the_author_or_a_steward_withdraws(
    node: Node, staff: dict[str, Member], tmp_path: Path
) -> None:
    first = _add(node, tmp_path, staff["amina"], "First")
    second = _add(node, tmp_path, staff["amina"], "Second")
    for name in ("chidi", "tariq"):  # a curator, and another author
        with pytest.raises(NotAllowed, match="may revoke only their own lessons"):
            revoke_lesson(node, RevokeLesson(staff[name], first, "safety"))
    assert record_summary(node.db, first).id == first  # still here
    by_author = revoke_lesson(node, RevokeLesson(staff["amina"], first, "consent-withdrawn"))
    assert by_author.record_ids == (first,) and by_author.record.title == "First"
    by_steward = revoke_lesson(node, RevokeLesson(staff["sefu"], second, "safety", "a note"))
    assert resolve_revoked_id(node.db, second) == second
    assert by_steward.revocation_id != by_author.revocation_id


def test_reviewing_quarantine_needs_the_role(
    node: Node, staff: dict[str, Member], tmp_path: Path
) -> None:
    record_id = _add(node, tmp_path, staff["amina"])
    with pytest.raises(NotAllowed, match="accept or reject quarantined lessons"):
        accept_lesson(node, ReviewQuarantined(staff["amina"], record_id))


# ---- peers ----------------------------------------------------------------------------------


def test_a_peer_status_change_follows_the_table_and_is_logged(
    node: Node, staff: dict[str, Member], identity_b: SigningIdentity
) -> None:
    peer_id = identity_b.node_id
    save_peer(node.db, peer_id, "Lima Hub", "Andes", "http://127.0.0.1:9", node.now())
    with pytest.raises(NotAllowed, match="manage peers"):
        set_peer_status(node, ChangePeerStatus(staff["amina"], "Lima Hub", "suspend"))
    changed = set_peer_status(node, ChangePeerStatus(staff["sefu"], "lima hub", "suspend"))
    assert (changed.node_id, changed.status) == (peer_id, "suspended")
    set_peer_status(node, ChangePeerStatus(staff["admin"], peer_id, "remove"))
    with pytest.raises(PeerStateError, match="removed"):
        set_peer_status(node, ChangePeerStatus(staff["admin"], peer_id, "resume"))
    peer = get_peer(node.db, peer_id)
    assert peer is not None and peer.status == "removed"
    kinds = [kind for _, kind, subject in logged_events(node.paths.root) if subject == peer_id]
    assert kinds == ["peer.suspended", "peer.removed"]


def test_only_peer_managers_invite(node: Node, staff: dict[str, Member]) -> None:
    with pytest.raises(NotAllowed, match="manage peers"):
        invite_peer(node, InvitePeer(staff["chidi"]))
    invitation = invite_peer(node, InvitePeer(staff["sefu"], ttl=600))
    assert invitation.node_id == node.node_id and invitation.expires == node.now() + 600
    assert node.db.execute("SELECT count(*) FROM invites").fetchone()[0] == 1


# ---- members --------------------------------------------------------------------------------


def test_admins_manage_members_and_keep_the_node_governable(
    node: Node, staff: dict[str, Member]
) -> None:
    admin = staff["admin"]
    with pytest.raises(NotAllowed, match="manage members"):
        add_member(node, AddMember(staff["sefu"], "zola", ("author",)))
    zola = add_member(node, AddMember(admin, "zola", ("author",)))
    assert zola.roles == ("author",) and node.paths.member_key("zola").exists()
    with pytest.raises(MemberError, match="no role left"):
        change_role(node, ChangeRole(admin, "zola", "author", give=False))
    assert change_role(node, ChangeRole(admin, "zola", "curator", give=True)).roles == (
        "curator", "author",
    )  # fmt: skip
    change_role(node, ChangeRole(admin, "admin", "steward", give=True))
    with pytest.raises(MemberError, match="last admin"):
        change_role(node, ChangeRole(admin, "admin", "admin", give=False))
    remove_from_node(node, RemoveMember(admin, "zola"))
    assert not node.paths.member_key("zola").exists()
    with pytest.raises(MemberError):
        node.member("zola")


def test_a_member_sets_their_own_password_an_admin_anyones(
    node: Node, staff: dict[str, Member]
) -> None:
    secret = "a long enough passphrase"
    with pytest.raises(NotAllowed, match="manage members"):
        set_password(node, SetPassword(staff["chidi"], "amina", secret))
    with pytest.raises(WeakPassword, match="at least 10 characters"):
        set_password(node, SetPassword(staff["amina"], "amina", "short"))
    assert password_hash_of(node.db, "amina") is None
    set_password(node, SetPassword(staff["amina"], "amina", secret))
    set_password(node, SetPassword(staff["admin"], "chidi", secret))
    assert password_hash_of(node.db, "amina") and password_hash_of(node.db, "chidi")
    changed = [subject for _, kind, subject in logged_events(node.paths.root)
               if kind == "member.password"]  # fmt: skip
    assert changed == ["amina", "chidi"]


# ---- off the event loop ---------------------------------------------------------------------


def test_in_worker_thread_runs_the_action_on_a_connection_of_its_own(
    node: Node, staff: dict[str, Member], tmp_path: Path
) -> None:
    record_id = _add(node, tmp_path, staff["amina"])
    seen: list[tuple[bool, bool]] = []

    def approve_elsewhere(own: Node, asked: ApproveLesson) -> bool:
        seen.append((own.db is node.db, threading.current_thread() is threading.main_thread()))
        return approve_lesson(own, asked).new

    new = asyncio.run(
        in_worker_thread(node, approve_elsewhere, ApproveLesson(staff["chidi"], record_id))
    )
    assert new is True and seen == [(False, False)]
    # committed on the worker's connection, seen on the node's own
    rows = node.db.execute("SELECT member FROM approvals WHERE record_id = ?", [record_id])
    assert [row[0] for row in rows] == ["chidi"]


def test_in_worker_thread_raises_the_actions_error(
    node: Node, staff: dict[str, Member], tmp_path: Path
) -> None:
    record_id = _add(node, tmp_path, staff["tariq"])
    with pytest.raises(NotAllowed, match="cannot approve"):
        asyncio.run(
            in_worker_thread(node, approve_lesson, ApproveLesson(staff["tariq"], record_id))
        )
    assert node.db.execute("SELECT count(*) FROM approvals").fetchone()[0] == 0


# ---- one place ------------------------------------------------------------------------------

# The lower-layer writes each action wraps: a front end that imports one does the action (and
# decides its rule) by itself again.
WRAPPED = {
    "governance.approvals": {"approve"},
    "federation.propagation": {"revoke"},
    "governance.quarantine": {"accept_quarantined", "reject_quarantined"},
    "federation.peers": {"change_peer_status", "set_status"},
    "governance.roles": {"require_may_revoke"},
    "federation.invites": {"create_invite"},
    "federation.pairing": {"join_with_invite"},
    "governance.members": {"remove_member", "set_roles", "set_password_hash", "add_member"},
    "node.home": {"create_member"},
    "archive.event_log": {"append_event"},
    "governance.policy_binding": {"confirm_bindings", "forget_binding"},
}


def _front_ends() -> list[Path]:
    web = ROOT / "node" / "web"
    return [
        *sorted((ROOT / "node" / "cli").glob("*.py")),
        web / "api_writes.py",
        *sorted((web / "pages").glob("*.py")),
    ]


def test_front_ends_leave_the_rules_to_the_actions() -> None:
    found = []
    for path in _front_ends():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in WRAPPED:
                names = {alias.name for alias in node.names} & WRAPPED[node.module]
                found += [f"{path.name} imports {node.module}.{name}" for name in names]
            if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Attribute) and side.attr == "author"
                for side in (node.left, *node.comparators)
            ):
                found.append(f"{path.name}:{node.lineno} compares an author itself")
            if isinstance(node, ast.Attribute) and node.attr in ("take_lesson", "on_outbox"):
                found.append(f"{path.name}:{node.lineno} calls .{node.attr} itself")
    assert found == []


OFF_THE_LOOP = {"add_lesson", "approve_lesson", "revoke_lesson", "accept_lesson", "reject_lesson"}


def test_the_web_runs_writing_actions_in_a_worker_thread() -> None:
    """A web handler passes these actions to ``in_worker_thread``, never calls them itself."""
    web = [path for path in _front_ends() if "cli" not in path.parts]
    direct, handed = [], set()
    for path in web:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in OFF_THE_LOOP:
                direct.append(f"{path.name}:{node.lineno} calls {name}")
            if name == "in_worker_thread":
                handed |= {getattr(arg, "attr", "") for arg in node.args} & OFF_THE_LOOP
    assert direct == [] and handed == OFF_THE_LOOP


def test_only_members_who_may_sync_pick_peers_to_sync(
    node: Node, staff: dict[str, Member], identity_b: SigningIdentity
) -> None:
    save_peer(node.db, identity_b.node_id, "Lima Hub", "Andes", "http://127.0.0.1:9", node.now())
    with pytest.raises(NotAllowed, match="sync with peers"):
        peers_to_sync(node, staff["chidi"], None)
    assert [peer.name for peer in peers_to_sync(node, staff["sefu"], None)] == ["Lima Hub"]
