"""How a sealed home's database connections are set up (archive.cipher)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.cipher import CACHE_KIB, WrongDatabaseKey, open_cipher_connection


def test_a_sealed_connection_keeps_its_cache_and_leaves_memory_security_off(
    tmp_path: Path,
) -> None:
    """Memory security off is a choice (see archive/cipher.py): a SQLCipher build that turns
    it on makes this fail, so that someone decides again, instead of every query slowing."""
    conn = open_cipher_connection(tmp_path / "sealed.db", bytes(range(32)))
    try:
        conn.execute("CREATE TABLE notes (text TEXT)")
        assert conn.execute("PRAGMA cipher_memory_security").fetchone()[0] in ("0", 0)
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB
        assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # memory
    finally:
        conn.close()
    with pytest.raises(WrongDatabaseKey, match="does not open with this key"):
        open_cipher_connection(tmp_path / "sealed.db", bytes(32))
