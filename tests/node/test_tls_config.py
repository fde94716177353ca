"""config.toml's TLS keys: HTTPS by default, its exceptions refused where they are unsafe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node.config import load_config
from node.errors import ConfigError
from node.tls import stored_fingerprint
from tests.conftest import HomeFactory


def edited(home: Path, *changes: tuple[str, str]) -> Path:
    path = home / "config.toml"
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_new_home_serves_https_and_refuses_plain_http(make_home: HomeFactory) -> None:
    home = make_home()
    config = load_config(home / "config.toml")
    assert config.url.startswith("https://")
    assert config.tls is True and config.allow_plain_http is False
    assert (home / "tls-certificate.pem").exists() and (home / "tls-node-certificate.pem").exists()


def test_tls_off_only_on_loopback(make_home: HomeFactory) -> None:
    home = make_home()
    path = edited(home, ("tls = true", "tls = false"))
    assert load_config(path).tls is False
    edited(home, ('host = "127.0.0.1"', 'host = "0.0.0.0"'))
    with pytest.raises(ConfigError, match="tls = false is only for a node behind"):
        load_config(path)


def test_a_certificate_needs_its_key(make_home: HomeFactory) -> None:
    path = edited(make_home(), ('certificate = ""', 'certificate = "/etc/hub/fullchain.pem"'))
    with pytest.raises(ConfigError, match="certificate and key go together"):
        load_config(path)


def test_the_lab_switch_is_read(make_home: HomeFactory) -> None:
    path = edited(make_home(), ("allow_plain_http = false", "allow_plain_http = true"))
    assert load_config(path).allow_plain_http is True


def test_init_prints_the_fingerprint_before_the_node_id(tmp_path: Path, invoke: Any) -> None:
    home = tmp_path / "hub"
    result = invoke(home, "init", "--name", "Nairobi Hub", "--region", "East Africa")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    fingerprint = stored_fingerprint(home)
    assert fingerprint is not None and f"  {fingerprint}" in lines
    assert lines[-1] == load_config(home / "config.toml").node_id
