"""The threat model names every attack test, and names no test that does not exist.

docs/explanation/threat-model.md is where an operator or auditor reads what we defend
against; each attack test in tests/attacks/ is the proof of one line of it, so the two must
not drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THREAT_MODEL = ROOT / "docs" / "explanation" / "threat-model.md"
ATTACKS = sorted(path.stem for path in (ROOT / "tests" / "attacks").glob("test_*.py"))


def test_there_are_attack_tests() -> None:
    assert len(ATTACKS) >= 10


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_attack_test_is_in_the_threat_model(attack: str) -> None:
    assert f"`{attack}`" in THREAT_MODEL.read_text(), (
        f"tests/attacks/{attack}.py is not listed in docs/explanation/threat-model.md"
    )


def test_the_threat_model_names_only_attack_tests_that_exist() -> None:
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", THREAT_MODEL.read_text()))
    assert named, "the threat model lists no attack test"
    assert named <= set(ATTACKS), f"listed but missing: {sorted(named - set(ATTACKS))}"
