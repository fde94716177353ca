"""``rhizome member token …``: a read-only API token shown once, listed without its secret,
revoked at once; only its member or an admin manages it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from node.api_tokens import TOKEN_KEY_FILE, looks_like_token
from node.node import Node
from tests.node.conftest import Invoke, assert_clean_exit
from tests.node.test_cli_members import add_member, member_log


def test_create_list_revoke(invoke: Invoke, home: Path) -> None:
    made = invoke(home, "member", "token", "create", "admin", "--label", "nightly export")
    assert_clean_exit(made)
    secret = made.stdout.strip().splitlines()[-1]
    assert looks_like_token(secret)
    token_id = secret.split("_")[1]
    assert f"Token {token_id} for admin" in made.stdout
    key = home / TOKEN_KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    node = Node(home)
    try:  # the database holds a hash, never the secret
        dump = "\n".join(node.db.conn.iterdump())
        assert secret not in dump and secret.split("_")[2] not in dump
    finally:
        node.close()

    listed = invoke(home, "member", "token", "list", "--json")
    assert_clean_exit(listed)
    [shown] = json.loads(listed.stdout)
    assert (shown["id"], shown["member"], shown["label"]) == (token_id, "admin", "nightly export")
    assert secret not in listed.stdout

    revoked = invoke(home, "member", "token", "revoke", token_id)
    assert_clean_exit(revoked)
    assert json.loads(invoke(home, "member", "token", "list", "--json").stdout) == []
    assert member_log(home)[-2:] == [("member.token", "admin"), ("member.token_revoked", "admin")]
    again = invoke(home, "member", "token", "revoke", token_id)
    assert again.exit_code != 0 and "no API token" in again.output


def test_a_member_manages_only_their_own_tokens(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    own = invoke(home, "member", "token", "create", "amina", before=["--as", "amina"])
    assert_clean_exit(own)
    refused = invoke(home, "member", "token", "create", "admin", before=["--as", "amina"])
    assert refused.exit_code != 0 and "admin" in refused.output
    everyone = invoke(home, "member", "token", "list", before=["--as", "amina"])
    assert everyone.exit_code != 0
    assert_clean_exit(invoke(home, "member", "token", "list", "amina", before=["--as", "amina"]))
