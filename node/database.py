"""The node's database: every package's schema, opened in layer order.

Each package owns its tables (its ``schema`` module's ``TABLES``) and is the only one to run
SQL on them; the others, node/ included, go through its functions. node/ owns no table and
runs no SQL of its own on the packages' tables (tests/test_table_ownership.py holds all of
this).
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from archive.db import connect
from archive.migrations import Schema
from archive.schema import SCHEMA as ARCHIVE
from federation.schema import SCHEMA as FEDERATION
from governance.schema import SCHEMA as GOVERNANCE

SCHEMAS: tuple[Schema, ...] = (ARCHIVE, GOVERNANCE, FEDERATION)


def open_database(path: Path | str, key: bytes | None = None) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the node's database at ``path``; ``key`` is the
    raw SQLCipher key of a sealed home's database (:mod:`node.sealed_home`)."""
    return connect(path, SCHEMAS, key=key)


def table_owners() -> dict[str, str]:
    """Each table of the node's database and the package that owns it."""
    return {table: schema.name for schema in SCHEMAS for table in schema.tables}
