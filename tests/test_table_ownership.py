"""Every table has one owning package, and only its owner runs SQL on it.

The owners are declared once, in each package's schema module (``TABLES`` of
archive/schema.py, governance/schema.py, federation/schema.py, gathered by
``node.database.table_owners``). This test reads every string literal of crypto/, archive/,
governance/, federation/ and node/ with ``ast`` (f-strings included), finds the table named
after FROM, JOIN, INTO, UPDATE, TABLE and ON (which covers DELETE FROM, INSERT INTO, ALTER
TABLE, CREATE INDEX/TRIGGER … ON), and fails when a package names a table it does not own.

- node/ owns no table and runs no SQL on the packages' tables, not even to read: it calls
  the owning package's functions (node may call any package's).
- A package reads another's table only through the owner's functions. The one exception is
  declared in the reader's ``Schema.foreign_reads`` and allowed only in its schema module:
  federation's m012 triggers on archive's ``records`` that keep ``peer_holdings`` exact.
- Migration bookkeeping (``schema_migrations``, ``_sqlite_migrations``, ``sqlite_master``)
  belongs to archive/migrations.py, the one module allowed to name a table through a
  variable (``FROM {LEGACY}``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from node.database import SCHEMAS, table_owners

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crypto", "archive", "governance", "federation", "node")
BOOKKEEPING = {"schema_migrations": "archive", "_sqlite_migrations": "archive"}
CATALOGUE = "sqlite_master"  # SQLite's own: only the migration runner reads it
RUNNER = "archive/migrations.py"
# SQL in this code base is written in capitals; prose in docstrings is not. A string that
# starts like a statement is read in any case.
TABLE_AFTER = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|ON)\s+(\{|[A-Za-z_][A-Za-z0-9_]*)")
ANY_CASE = re.compile(TABLE_AFTER.pattern, re.IGNORECASE)
STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|WITH)\b", re.I)
DYNAMIC = "{"


def owners() -> dict[str, str]:
    return {**table_owners(), **BOOKKEEPING, CATALOGUE: "archive"}


def literals(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string literal; an f-string's holes become ``{``."""
    found: list[tuple[int, str]] = []
    inside_fstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = ""
            for part in node.values:
                inside_fstrings.add(id(part))
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    text += part.value
                else:
                    text += DYNAMIC
            found.append((node.lineno, text))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside_fstrings
        ):
            found.append((node.lineno, node.value))
    return found


def violations(package: str, module: str, source: str) -> list[str]:
    """What ``module`` (a path under ``package``) names that its package does not own."""
    owner_of = owners()
    allowed_foreign = {
        table
        for schema in SCHEMAS
        if schema.name == package and module == f"{package}/schema.py"
        for table in schema.foreign_reads
    }
    found = []
    for line, text in literals(ast.parse(source)):
        pattern = ANY_CASE if STATEMENT.match(text) else TABLE_AFTER
        for match in pattern.finditer(text):
            table = match.group(1)
            where = f"{module}:{line}"
            if table.startswith(DYNAMIC):
                if module != RUNNER:
                    found.append(f"{where}: a table named through a variable ({text[:60]!r})")
                continue
            if table == CATALOGUE and module != RUNNER:
                found.append(f"{where}: reads {CATALOGUE} (only {RUNNER} does)")
                continue
            owner = owner_of.get(table)
            if owner is None or owner == package or table in allowed_foreign:
                continue
            found.append(f"{where}: {package} runs SQL on {table}, which {owner} owns")
    return found


def package_modules() -> list[tuple[str, str]]:
    return [
        (package, path.relative_to(ROOT).as_posix())
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def test_every_package_runs_sql_only_on_its_own_tables() -> None:
    found = []
    for package, module in package_modules():
        found += violations(package, module, (ROOT / module).read_text(encoding="utf-8"))
    assert found == [], "\n".join(found)


def test_the_walk_sees_sql_in_every_package() -> None:
    """Guards the walk itself: it finds the owners' own SQL (a broken pattern finds none)."""
    seen: dict[str, set[str]] = {}
    for package, module in package_modules():
        for _, text in literals(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
            for match in TABLE_AFTER.finditer(text):
                seen.setdefault(package, set()).add(match.group(1))
    for schema in SCHEMAS:
        assert schema.tables <= seen[schema.name], schema.tables - seen[schema.name]


@pytest.mark.parametrize(
    ("package", "module", "source", "said"),
    [
        (
            "archive",
            "archive/tombstones.py",
            'db.execute("DELETE FROM approvals WHERE record_id = ?", [i])',
            "archive runs SQL on approvals, which governance owns",
        ),
        (
            "governance",
            "governance/quarantine.py",
            'db.execute("UPDATE records SET quarantined = 0 WHERE id = ?", [i])',
            "governance runs SQL on records, which archive owns",
        ),
        (
            "node",
            "node/web/metrics.py",
            'db.execute(f"SELECT count(*) FROM peers WHERE {where}")',
            "node runs SQL on peers, which federation owns",
        ),
        (
            "federation",
            "federation/bundles.py",
            'rows = db.execute("SELECT 1 FROM records AS r JOIN tombstones AS t ON 1")',
            "federation runs SQL on records, which archive owns",
        ),
        (
            "federation",
            "federation/sync.py",
            'db.execute(f"SELECT seq FROM {table}")',
            "a table named through a variable",
        ),
        (
            "node",
            "node/status.py",
            'db.execute("select count(*) from outbox where kind = ?", ["revocation"])',
            "node runs SQL on outbox, which federation owns",
        ),
        (
            "governance",
            "governance/schema.py",
            'db.execute("CREATE TRIGGER t AFTER INSERT ON records BEGIN SELECT 1; END")',
            "governance runs SQL on records, which archive owns",
        ),
    ],
)
def test_a_table_touched_by_another_package_is_caught(
    package: str, module: str, source: str, said: str
) -> None:
    assert any(said in problem for problem in violations(package, module, source))


def test_a_declared_foreign_read_is_allowed_only_in_the_readers_schema_module() -> None:
    trigger = 'db.execute("CREATE TRIGGER t AFTER DELETE ON records BEGIN SELECT 1; END")'
    assert violations("federation", "federation/schema.py", trigger) == []
    assert violations("federation", "federation/quotas.py", trigger) != []


def test_every_table_has_exactly_one_owner() -> None:
    declared = [table for schema in SCHEMAS for table in schema.tables]
    assert len(declared) == len(set(declared))
    assert not set(declared) & set(BOOKKEEPING)
