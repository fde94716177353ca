"""``rhizome key``: the recovery code init prints, rotation, history, recovery with a code or
with stewards' shares, and every bad input refused with one clear line and nothing changed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from crypto.recovery_code import recovery_code
from crypto.signing import SigningIdentity
from tests.node.conftest import Invoke, assert_clean_exit, assert_one_line_error

INIT = ("init", "--name", "Nairobi Hub", "--region", "East Africa", "--no-passphrase")
CODE = re.compile(r"Recovery code: (\S+)")


def history(invoke: Invoke, home: Path) -> dict:  # type: ignore[type-arg]
    result = invoke(home, "key", "history", "--json")
    assert_clean_exit(result)
    found: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return found


def init_with_code(invoke: Invoke, home: Path) -> str:
    result = invoke(home, *INIT)
    assert_clean_exit(result)
    found = CODE.search(result.stdout)
    assert found, result.stdout
    return found.group(1)


def test_init_prints_a_recovery_code_and_starts_the_history(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    code = init_with_code(invoke, home)
    assert code not in "".join(p.read_text(errors="ignore") for p in home.rglob("*.toml"))
    found = history(invoke, home)
    assert found["current_key"] == found["node_id"]
    assert [s["kind"] for s in found["statements"]] == ["genesis"]


def test_rotate_keeps_the_node_id_and_verify_stays_intact(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    init_with_code(invoke, home)
    rotated = invoke(home, "key", "rotate", "--no-tell-peers", "--json")
    assert_clean_exit(rotated)
    answer = json.loads(rotated.stdout)
    found = history(invoke, home)
    assert found["node_id"] == answer["node_id"] != answer["current_key"]
    assert found["current_key"] == answer["current_key"]
    assert [s["kind"] for s in found["statements"]] == ["genesis", "rotation"]
    assert_clean_exit(invoke(home, "verify"))
    status = invoke(home, "status", "--json")
    assert_clean_exit(status)
    assert json.loads(status.stdout)["node"]["current_key"] == answer["current_key"]


def test_recover_with_the_code(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    code = init_with_code(invoke, home)
    result = invoke(
        home, "key", "recover", "--code", code, "--no-tell-peers",
        "--compromised-since", "2026-01-01T00:00Z", "--json",
    )  # fmt: skip
    assert_clean_exit(result)
    found = history(invoke, home)
    assert [s["kind"] for s in found["statements"]] == ["genesis", "recovery"]
    assert found["statements"][1]["suspect"][0]["key"] == found["node_id"]
    assert_clean_exit(invoke(home, "verify"))


def test_recover_with_two_of_three_shares(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    made = invoke(home, *INIT, "--recovery-shares", "2-of-3")
    assert_clean_exit(made)
    shares = [line for line in made.stdout.splitlines() if line.startswith("2-of-3 #")]
    assert len(shares) == 3 and "Recovery code:" not in made.stdout
    result = invoke(home, "key", "recover", "--share", shares[0], "--share", shares[2],
                    "--no-tell-peers")  # fmt: skip
    assert_clean_exit(result)
    assert [s["kind"] for s in history(invoke, home)["statements"]] == ["genesis", "recovery"]


def test_bad_recovery_input_changes_nothing(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    code = init_with_code(invoke, home)
    before = history(invoke, home)
    typo = code[:3] + ("B" if code[3] != "B" else "C") + code[4:]
    assert_one_line_error(invoke(home, "key", "recover", "--code", typo, "--no-tell-peers"),
                          "mistyped")  # fmt: skip
    other = recovery_code(SigningIdentity.generate())  # well typed, but another key
    assert_one_line_error(invoke(home, "key", "recover", "--code", other, "--no-tell-peers"),
                          "not the one this node's history names")  # fmt: skip
    one_share = invoke(home, "key", "recover", "--share", "2-of-3 #1: " + code, "--no-tell-peers")
    assert_one_line_error(one_share, "not enough")
    assert history(invoke, home) == before


def test_init_refuses_a_bad_split_before_making_the_home(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    result = invoke(home, *INIT, "--recovery-shares", "1-of-3")
    assert result.exit_code != 0 and "2 <= K <= N" in result.output
    assert not home.exists()
