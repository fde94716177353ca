"""The protocol reference states every message field's type and bound as federation/wire.py
declares them: wire.py is the one declaration the routes, the client and these docs follow."""

from __future__ import annotations

from pathlib import Path

from federation import wire

PROTOCOL = Path(__file__).parents[2] / "docs" / "reference" / "federation-protocol.md"
INT_BOUND = 1 << 31  # a count: the reference's `int` row gives its range once


def notation(spec: wire.Field) -> str:
    """The field's type in the reference's notation (its "Types" table)."""
    if spec.kind is str:
        return f"`str({spec.bound})`"
    if spec.kind is bytes:
        return f"`bin[{spec.bound}]`" if spec.exact else f"`bin({spec.bound})`"
    if spec.kind is int:
        return "`int`" if spec.bound == INT_BOUND else f"`int` (0 to {spec.bound:,})"
    assert spec.kind is list, spec
    item = f"bin[{spec.item_bound}]" if spec.exact_items else f"bin({spec.item_bound})"
    return f"`array({spec.bound}) of {item}`"


def schemas() -> dict[str, wire.Schema]:
    return {
        name: value
        for name, value in vars(wire).items()
        if isinstance(value, dict)
        and value
        and all(isinstance(spec, wire.Field) for spec in value.values())
    }


def test_every_field_of_every_message_is_in_a_row_with_its_type_and_bound() -> None:
    rows = [line for line in PROTOCOL.read_text(encoding="utf-8").splitlines() if line[:3] == "| `"]
    found = schemas()
    assert len(found) >= 15, sorted(found)
    wrong = []
    for message, schema in found.items():
        for name, spec in schema.items():
            expected = f"| `{name}` | {notation(spec)} |"
            if not any(row.startswith(expected) for row in rows):
                wrong.append(f"{message}.{name}: {expected}")
    assert not wrong, f"federation-protocol.md misstates: {wrong}"


def test_the_notation_of_a_changed_bound_changes() -> None:
    """The check can fail: a bound that differs from the reference's is caught."""
    spec = wire.FETCHED["handled"]
    changed = wire.Field(spec.kind, spec.bound + 1)
    assert notation(changed) != notation(spec)
