"""The docs are tested: every command documented, the CLI reference fresh, no broken links,
and the numbers and examples in the reference pages the same as the code's."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import click
import pytest
from aiohttp import web

from node.cli import main as rhizome
from tests.conftest import HomeFactory

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_REFERENCE = DOCS / "reference" / "cli.md"
PAGES = sorted(DOCS.rglob("*.md"))
REGENERATE = "run: python docs/generate_cli_reference.py"

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_cli_reference", DOCS / "generate_cli_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def command_names(command: click.Command, path: tuple[str, ...] = ("rhizome",)) -> Iterator[str]:
    """'rhizome', 'rhizome init', 'rhizome lesson', 'rhizome lesson add', … (not hidden ones)."""
    yield " ".join(path)
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                yield from command_names(sub, (*path, name))


def prose(text: str) -> str:
    """The Markdown without code blocks and code spans, where links and headings are not."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading (without the -1, -2 of repeated headings)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(FENCE.sub("", page.read_text()))}


def links(page: Path) -> list[str]:
    text = prose(page.read_text(encoding="utf-8"))
    return LINK.findall(text) + REFERENCE_LINK.findall(text)


# -- the CLI reference ----------------------------------------------------------------------


@pytest.mark.parametrize("command", list(command_names(rhizome)))
def test_every_command_has_a_heading_in_the_cli_reference(command: str) -> None:
    headings = set(HEADING.findall(FENCE.sub("", CLI_REFERENCE.read_text(encoding="utf-8"))))
    assert command in headings, f"docs/reference/cli.md has no '## {command}'; {REGENERATE}"


def test_cli_reference_is_up_to_date() -> None:
    expected = load_generator().render_reference(rhizome)
    assert CLI_REFERENCE.read_text(encoding="utf-8") == expected, (
        f"docs/reference/cli.md differs from the commands' --help; {REGENERATE}"
    )


# -- links ----------------------------------------------------------------------------------


def test_there_are_docs_to_check() -> None:
    assert DOCS / "index.md" in PAGES


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(DOCS)))
def test_relative_links_point_to_existing_files(page: Path) -> None:
    broken = []
    for target in links(page):
        if EXTERNAL.match(target):
            continue
        path, _, fragment = target.partition("#")
        path = path.split("?", 1)[0]
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target} (no file {linked})")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(f"{target} (no heading for #{fragment} in {linked.name})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


# -- examples and numbers in the reference match the code -----------------------------------


def lesson_examples() -> Iterator[tuple[str, str]]:
    """Every ```markdown block in the docs that is a whole lesson file (starts with ---)."""
    block = re.compile(r"^```markdown\n(---\n.*?)^```$", re.MULTILINE | re.DOTALL)
    for page in PAGES:
        for number, match in enumerate(block.finditer(page.read_text(encoding="utf-8")), 1):
            yield f"{page.relative_to(DOCS)} example {number}", match.group(1)


@pytest.mark.parametrize(
    "where, text", [pytest.param(where, text, id=where) for where, text in lesson_examples()]
)
def test_lesson_examples_in_the_docs_are_valid(where: str, text: str) -> None:
    from archive.lesson_file import parse_lesson_file

    draft = parse_lesson_file(text.encode("utf-8"), where)
    draft.to_lesson(
        where=where,
        origin=bytes(32),
        author="admin",
        created=1_780_000_000,
        default_language="en",
        default_region="East Africa",
        resolve_id=lambda _prefix: bytes(32),
    )


def limit_constants() -> Iterator[tuple[str, int]]:
    """Every MAX_* size limit of the modules that check input, plus a few named ones."""
    from archive import db, lesson_file, queries, record, search, signed_record
    from governance import policy_file
    from node.web import (
        api,
        api_session,
        api_types,
        api_writes,
        app,
        auth,
        edge,
        host_check,
        json_bodies,
    )

    modules = (
        record, lesson_file, search, signed_record, app, api, api_writes, policy_file, edge,
        api_session, json_bodies, host_check, api_types,
    )  # fmt: skip
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("MAX_") and isinstance(value, int):
                yield name, value
    yield "MIN_PREFIX", queries.MIN_PREFIX
    yield "BUSY_TIMEOUT_MS", db.BUSY_TIMEOUT_MS
    yield "MIN_INVITE_TTL", api_types.MIN_INVITE_TTL
    yield "SESSION_SECONDS", auth.SESSION_SECONDS
    from node import passwords
    from node.web import sign_in_guard

    yield "MIN_PASSWORD", passwords.MIN_PASSWORD

    for name in ("FREE_FAILURES", "FIRST_DELAY", "MAX_DELAY", "FORGET_AFTER", "MAX_ENTRIES"):
        yield name, getattr(sign_in_guard, name)
    yield "CONCURRENT_CHECKS", auth.CONCURRENT_CHECKS


def test_limits_page_states_every_limit_with_its_value() -> None:
    rows = (DOCS / "reference" / "limits.md").read_text().splitlines()
    wrong = []
    for name, value in sorted(set(limit_constants())):
        mentions = " ".join(row for row in rows if f"`{name}`" in row)
        if f"{value:,}" not in mentions:
            wrong.append(f"{name} = {value:,}")
    assert not wrong, f"docs/reference/limits.md misses or misstates: {wrong}"


def test_record_limits_on_the_limits_page() -> None:
    from archive.signed_record import RECORD_LIMITS

    text = (DOCS / "reference" / "limits.md").read_text()
    mentions = " ".join(line for line in text.splitlines() if "`RECORD_LIMITS`" in line)
    for value in (RECORD_LIMITS.max_array_len, RECORD_LIMITS.max_map_len):
        assert f"{value:,}" in mentions


def test_record_format_worked_example_matches_the_code() -> None:
    from archive.event_log import GENESIS, encode_detail, entry_hash
    from archive.record import Lesson, encode_lesson
    from archive.signed_record import sign_lesson
    from crypto.signing import SigningIdentity

    identity = SigningIdentity.from_seed(bytes(range(32)))
    lesson = Lesson(
        kind="checklist",
        title="Buddy pairs",
        body="Write the pairs down.\n",
        language="en",
        region="East Africa",
        created=1_780_000_000,
        origin=identity.public_key,
        author="admin",
    )
    record = sign_lesson(identity, lesson)
    event = entry_hash(
        1,
        1_780_000_000,
        "record.added",
        record.id_hex,
        encode_detail({"kind": lesson.kind}),
        GENESIS,
    )
    text = (DOCS / "reference" / "record-format.md").read_text()
    assert identity.public_key.hex() in text
    assert identity.node_id in text
    assert encode_lesson(lesson).hex() in re.sub(r"\s", "", text)
    assert f"payload is {len(encode_lesson(lesson))} bytes" in text
    assert f"envelope is {len(record.envelope)} bytes" in text
    assert record.id_hex in text
    assert event.hex() in text


def test_http_api_page_names_every_api_route(make_home: HomeFactory) -> None:
    """Every route the app serves under /api/v1/ (and /healthz, /metrics) is on the page as
    "METHOD /path", as the router spells the path; HEAD, which aiohttp adds to every GET, is
    left out."""
    from node.node import Node
    from node.web.app import create_app

    node = Node(make_home())
    try:
        app = create_app(node, background_sync=False)
        served = {
            f"{route.method} {route.resource.canonical}"
            for route in app.router.routes()
            if route.resource is not None
            and route.method != "HEAD"
            and (
                route.resource.canonical.startswith("/api/v1/")
                or route.resource.canonical in ("/healthz", "/metrics")
            )
        }
    finally:
        node.close()
    assert any(route.startswith("POST /api/v1/") for route in served), served
    text = (DOCS / "reference" / "http-api.md").read_text(encoding="utf-8")
    # Whole paths only: "GET /api/v1/lessons" inside "GET /api/v1/lessons/{id}" does not count.
    missing = sorted(
        route for route in served if not re.search(re.escape(route) + r"(?![\w/{.-])", text)
    )
    assert not missing, f"docs/reference/http-api.md does not name: {missing}"


def test_http_api_page_lists_every_error_code() -> None:
    import archive.errors
    import archive.search
    import crypto.errors
    from crypto.errors import RhizomeError
    from node.web.errors import _CODE_FOR_STATUS

    assert archive.errors and archive.search and crypto.errors  # imported for their classes

    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    import federation.errors

    assert federation.errors
    import governance.members
    import governance.policy_file
    import governance.quarantine
    import governance.roles

    assert governance.members and governance.policy_file and governance.quarantine
    assert governance.roles
    ours = ("archive.", "crypto.", "node.", "federation.", "governance.")
    codes = {RhizomeError.code, *_CODE_FOR_STATUS.values()}
    codes |= {cls.code for cls in subclasses(RhizomeError) if cls.__module__.startswith(ours)}
    text = (DOCS / "reference" / "http-api.md").read_text()
    missing = sorted(code for code in codes if f"`{code}`" not in text)
    assert not missing, f"docs/reference/http-api.md does not explain: {missing}"


# -- the federation protocol ----------------------------------------------------------------

PROTOCOL = DOCS / "reference" / "federation-protocol.md"


def federation_limits() -> Iterator[tuple[str, str, int]]:
    """(constant, file, value) of every federation limit: all MAX_* of the modules that check
    peers' input, plus the named deadlines, windows and batch sizes."""
    from crypto import http_signatures, replay_guard
    from federation import (
        background,
        client,
        invites,
        offer_changes,
        offer_sets,
        pace,
        responder,
        revocation,
        routes,
        sync,
        wire,
    )
    from node import config
    from node.cli import revoke_commands
    from node.web import edge

    named = {
        wire: {"FRAME_SIZE_LIMIT", "BATCH_BYTES"},
        routes: {"REQUEST_DEADLINE", "PAIR_BODY_BYTES", "PAIR_BODY_DEADLINE"},
        client: {"REQUEST_DEADLINE"},
        responder: {"SESSION_SECONDS", "SESSIONS_PER_PEER", "NEW_SESSIONS_BURST", "SESSION_BYTES"},
        offer_sets: {"OFFER_SETS_BYTES", "PATCH_LIMIT"},
        offer_changes: {"KEPT_CHANGES"},
        pace: {"EXCHANGE_DEADLINE", "PROGRESS_WINDOW", "MIN_PROGRESS_BYTES"},
        edge: {"HEAD_DEADLINE"},
        sync: {"BATCH"},
        revocation: set(),
        background: {"NOTIFY_DEADLINE", "OUTBOX_DEADLINE", "EXPIRY_SECONDS"},
        revoke_commands: {"IMMEDIATE_DEADLINE"},
        http_signatures: set(),
        replay_guard: {"DEFAULT_MAX_SKEW", "DEFAULT_MAX_ENTRIES"},
        invites: {"DEFAULT_TTL", "SECRET_SIZE"},
        config: {"DEFAULT_SYNC_INTERVAL"},
    }
    for module, names in named.items():
        where = module.__name__.replace(".", "/") + ".py"
        for name, value in vars(module).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if name.startswith("MAX_") or name in names:
                assert value == int(value), f"{where} {name} is not a whole number"
                yield name, where, int(value)


@pytest.mark.parametrize("page", ["limits.md", "federation-protocol.md"])
def test_federation_limits_are_stated_with_their_values(page: str) -> None:
    rows = (DOCS / "reference" / page).read_text(encoding="utf-8").splitlines()
    wrong = []
    for name, where, value in federation_limits():
        mentions = " ".join(row for row in rows if f"`{name}`" in row and f"`{where}`" in row)
        if f"{value:,}" not in mentions:
            wrong.append(f"{where} {name} = {value:,}")
    assert not wrong, f"docs/reference/{page} misses or misstates: {wrong}"


def test_quota_defaults_are_stated_with_their_keys() -> None:
    from dataclasses import fields

    from federation.quotas import Quotas

    rows = (DOCS / "reference" / "limits.md").read_text(encoding="utf-8").splitlines()
    wrong = []
    for quota in fields(Quotas):
        mentions = " ".join(row for row in rows if f"`{quota.name}`" in row)
        if f"{quota.default:,}" not in mentions:
            wrong.append(f"{quota.name} = {quota.default:,}")
    assert not wrong, f"docs/reference/limits.md misses or misstates quotas: {wrong}"


@pytest.mark.parametrize("page", ["limits.md", "federation-protocol.md"])
def test_federation_decoding_caps_are_stated(page: str) -> None:
    from federation.wire import BODY_LIMITS

    text = (DOCS / "reference" / page).read_text(encoding="utf-8")
    mentions = " ".join(line for line in text.splitlines() if "`BODY_LIMITS`" in line)
    for value in (BODY_LIMITS.max_bin_len, BODY_LIMITS.max_map_len):
        assert f"{value:,}" in mentions


def test_every_federation_route_and_field_is_documented() -> None:
    from federation import routes, wire

    text = PROTOCOL.read_text(encoding="utf-8")
    headings = set(HEADING.findall(FENCE.sub("", text)))
    paths = [route.path for route in routes.routes if isinstance(route, web.RouteDef)]
    assert paths, "no federation routes found"
    missing = [f"POST {path}" for path in paths if f"POST {path}" not in headings]
    schemas = [
        value
        for value in vars(wire).values()
        if isinstance(value, dict) and all(isinstance(spec, wire.Field) for spec in value.values())
    ]
    fields = {name for schema in schemas for name in schema}
    missing += [f"field {name}" for name in sorted(fields) if f"`{name}`" not in text]
    assert not missing, f"docs/reference/federation-protocol.md does not describe: {missing}"


def test_federation_protocol_constants_match_the_code() -> None:
    from crypto import http_signatures
    from federation import invites
    from federation.negentropy import PROTOCOL_VERSION

    text = PROTOCOL.read_text(encoding="utf-8")
    for word in (
        http_signatures.TAG,
        http_signatures.LABEL,
        http_signatures.RECIPIENT_HEADER,
        invites.PREFIX,
        invites.PROOF_CONTEXT.decode(),
        invites.ACCEPT_CONTEXT.decode(),
        f"0x{PROTOCOL_VERSION:02x}",
        " ".join(f'"{component}"' for component in http_signatures.COVERED_COMPONENTS),
    ):
        assert word in text, f"federation-protocol.md does not say {word!r}"


def test_federation_signature_worked_example_matches_the_code() -> None:
    from crypto.http_signatures import sign_request
    from crypto.signing import SigningIdentity
    from federation import wire

    sender = SigningIdentity.from_seed(bytes(range(32)))
    recipient = SigningIdentity.from_seed(bytes(range(32, 64)))
    headers = sign_request(
        sender,
        "POST",
        "http://127.0.0.1:18502/federation/v1/notify",
        wire.encode(wire.NOTIFY, {}),
        created=1_780_000_000,
        recipient=recipient.node_id,
        nonce="AAECAwQFBgcICQoLDA0ODw",
    )
    text = PROTOCOL.read_text(encoding="utf-8")
    for name, value in headers.items():
        assert f"{name}: {value}" in text, f"federation-protocol.md: {name} differs from the code"


def test_federation_pairing_worked_example_matches_the_code() -> None:
    from crypto.signing import SigningIdentity
    from federation.invites import InviteCode, encode_invite, pairing_proof, sign_acceptance

    inviter = SigningIdentity.from_seed(bytes(range(32)))
    joiner = SigningIdentity.from_seed(bytes(range(32, 64)))
    code = InviteCode(inviter.node_id, "http://127.0.0.1:18501", bytes(range(16)), 1_780_086_400)
    proof = pairing_proof(code.secret, inviter.node_id, joiner.node_id)
    signature = sign_acceptance(inviter, joiner.node_id, proof)
    text = re.sub(r"\s", "", PROTOCOL.read_text(encoding="utf-8"))
    for value in (encode_invite(code), code.invite_id.hex(), proof.hex(), signature.hex()):
        assert value in text, f"federation-protocol.md: the pairing example differs: {value}"


# -- governance and withdrawal --------------------------------------------------------------

GOVERNANCE = DOCS / "explanation" / "governance-and-consent.md"


def table_rows(text: str, first_header: str) -> tuple[list[str], list[list[str]]]:
    """The header and body rows of the Markdown table whose first header cell is given."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            rows = []
            for row in lines[number + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append([cell.strip() for cell in row.strip().strip("|").split("|")])
            return cells, rows
    raise AssertionError(f"no table starting with '| {first_header} |'")


def decision_reason_codes() -> set[str]:
    """Every reason code the decision functions (and the stale-copy refusal) can give."""
    import ast

    from archive.record import SCOPES

    codes: set[str] = set()
    sources = ("governance/decisions.py", "governance/consent_checks.py", "federation/receiving.py")
    for source in (ROOT / name for name in sources):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in ("allow", "deny", "Reason"):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                codes.add(first.value)
            elif isinstance(first, ast.BinOp) and isinstance(first.left, ast.Constant):
                # "scope_" + consent.scope: only reached for scopes other than local and peers
                assert first.left.value == "scope_", f"{source.name}: a new kind of dynamic code"
                codes |= {f"scope_{scope}" for scope in SCOPES if scope not in ("local", "peers")}
            elif not (isinstance(first, ast.Name) and first.id == "code"):  # passed through
                raise AssertionError(
                    f"{source.name}:{node.lineno}: a code the docs test cannot read"
                )
    return codes


def test_every_decision_reason_is_explained() -> None:
    _, rows = table_rows(GOVERNANCE.read_text(encoding="utf-8"), "Code")
    documented = {row[0].strip("`") for row in rows}
    codes = decision_reason_codes()
    assert codes, "no reason codes found in governance/decisions.py"
    assert not codes - documented, (
        f"{GOVERNANCE.name} does not explain: {sorted(codes - documented)}"
    )
    assert not documented - codes, (
        f"{GOVERNANCE.name} explains unknown codes: {sorted(documented - codes)}"
    )


def test_roles_table_matches_the_permissions() -> None:
    from governance.roles import PERMISSIONS, ROLES

    header, rows = table_rows(GOVERNANCE.read_text(encoding="utf-8"), "Permission")
    columns = {
        cell.strip("`"): index for index, cell in enumerate(header) if cell.strip("`") in ROLES
    }
    assert set(columns) == set(ROLES), f"the roles table needs one column per role: {ROLES}"
    table = {row[0].strip("`"): row for row in rows}
    assert set(table) == set(PERMISSIONS), (
        f"the roles table lists {sorted(table)}, governance/roles.py has {sorted(PERMISSIONS)}"
    )
    for permission, roles in PERMISSIONS.items():
        granted = {role for role, index in columns.items() if table[permission][index] == "yes"}
        assert granted == set(roles), f"{permission}: the table says {sorted(granted)}"


def test_strike_codes_are_named_where_strikes_are_explained() -> None:
    from governance.decisions import STRIKE_CODES

    for page in (GOVERNANCE, PROTOCOL):
        text = page.read_text(encoding="utf-8")
        missing = sorted(code for code in STRIKE_CODES if f"`{code}`" not in text)
        assert not missing, f"{page.name} does not name the strike codes {missing}"


def test_every_revocation_reason_is_documented() -> None:
    from federation.revocation import REASONS

    _, rows = table_rows(
        (DOCS / "how-to" / "withdraw-a-lesson.md").read_text(encoding="utf-8"), "Reason"
    )
    assert {row[0].strip("`") for row in rows} == set(REASONS)
    promises = (DOCS / "explanation" / "revocation-promises.md").read_text(encoding="utf-8")
    assert all(f"`{reason}`" in promises for reason in REASONS)


def test_signing_contexts_are_documented() -> None:
    from federation.revocation import (
        MEMBER_REVOCATION_CONTEXT,
        RECEIPT_CONTEXT,
        REVOCATION_CONTEXT,
    )
    from governance.approvals import APPROVAL_CONTEXT
    from governance.members import MEMBER_CONTEXT

    record_format = (DOCS / "reference" / "record-format.md").read_text(encoding="utf-8")
    protocol = PROTOCOL.read_text(encoding="utf-8")
    contexts = (MEMBER_CONTEXT, APPROVAL_CONTEXT, REVOCATION_CONTEXT, MEMBER_REVOCATION_CONTEXT)
    for context in (*contexts, RECEIPT_CONTEXT):
        assert f"`{context.decode()}`" in record_format, f"record-format.md: {context!r}"
    for context in (MEMBER_CONTEXT, REVOCATION_CONTEXT, MEMBER_REVOCATION_CONTEXT, RECEIPT_CONTEXT):
        assert f"`{context.decode()}`" in protocol, f"federation-protocol.md: {context!r}"
