"""``[quotas]`` in config.toml: written with its defaults by init, read back, checked."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from federation.quotas import Quotas
from node.config import load_config, render_config
from node.errors import ConfigError
from tests.conftest import HomeFactory


def test_init_writes_every_quota_with_its_default(make_home: HomeFactory) -> None:
    home = make_home()

    config = load_config(home / "config.toml")

    assert config.quotas == Quotas()
    text = (home / "config.toml").read_text(encoding="utf-8")
    for quota in dataclasses.fields(Quotas):
        assert f"{quota.name} = {quota.default}" in text


def test_an_edited_quota_is_read_and_a_missing_one_keeps_its_default(
    make_home: HomeFactory,
) -> None:
    path = make_home() / "config.toml"
    config = dataclasses.replace(load_config(path), quotas=Quotas(records_per_period=7))
    text = render_config(config).replace("quarantine_bytes = 268435456\n", "")
    path.write_text(text, encoding="utf-8")

    quotas = load_config(path).quotas

    assert quotas.records_per_period == 7
    assert quotas.quarantine_bytes == Quotas().quarantine_bytes


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("stored_bytes = 0", "stored_bytes must be at least 1"),
        ("stored_bytes = -5", "stored_bytes must be at least 1"),
        ('stored_bytes = "a lot"', "stored_bytes must be int"),
        ("daily_records = 5", "unknown key 'daily_records'"),
    ],
)
def test_a_wrong_quota_names_the_key(make_home: HomeFactory, line: str, message: str) -> None:
    path: Path = make_home() / "config.toml"
    text = path.read_text(encoding="utf-8").replace(
        f"stored_bytes = {Quotas().stored_bytes}", line
    )
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match=message):
        load_config(path)
