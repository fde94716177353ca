"""``config.toml``: the node's name, region, language, public URL and server address.

The file is meant to be read and edited by operators, so ``init`` writes it with comments
and every key it knows; loading checks every key and type and names the line that is wrong.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.record import is_language_tag
from crypto.errors import InvalidNodeId
from crypto.node_id import normalize_node_id
from federation.quotas import Quotas
from node.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
DEFAULT_SYNC_INTERVAL = 300
_SCHEMA: dict[str, dict[str, type]] = {
    "node": {"id": str, "name": str, "region": str, "language": str, "url": str},
    "server": {"host": str, "port": int, "public_read": bool, "allowed_hosts": list},
    "federation": {"sync_interval": int},
    "quotas": {name: int for name in Quotas.__dataclass_fields__},
}


@dataclass(frozen=True)
class NodeConfig:
    node_id: str
    name: str
    region: str
    language: str = "en"
    url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_read: bool = False
    allowed_hosts: tuple[str, ...] = ()
    sync_interval: int = DEFAULT_SYNC_INTERVAL
    quotas: Quotas = field(default_factory=Quotas)


def render_config(config: NodeConfig) -> str:
    """The text of a config.toml for ``config``, with comments for operators."""

    def q(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML string

    return f"""# Rhizome node configuration. Edit it, then restart `rhizome serve`.

[node]
# This node's id, derived from its key. Do not edit: peers know the node by it.
id = {q(config.node_id)}
# How peers and members see this hub.
name = {q(config.name)}
region = {q(config.region)}
# The default language of lessons added here (a BCP 47 tag such as en, es, pt-BR).
language = {q(config.language)}
# The address peers use to reach this node.
url = {q(config.url)}

[server]
# 127.0.0.1 keeps the node private to this machine; expose it on purpose only.
host = {q(config.host)}
port = {config.port}
# The read API (/api/v1/) answers only this machine unless this is true. Peers never need
# it: federation has its own signed routes. Turn it on only behind sign-in or a trusted net.
public_read = {str(config.public_read).lower()}
# The node answers only requests addressed to its own names (the url above, the address it
# listens on, localhost): a web page that points its own domain at this machine reads
# nothing. List here any other name people or a reverse proxy use to reach it.
allowed_hosts = [{", ".join(q(name) for name in config.allowed_hosts)}]

[federation]
# Seconds between background syncs with every active peer (news is pushed at once anyway).
sync_interval = {config.sync_interval}

[quotas]
# What one peer may make this node store (docs/reference/limits.md). Over a limit, its
# records are refused (429 or 507, with a time to retry) and you are told in the event log.
period_seconds = {config.quotas.period_seconds}
records_per_period = {config.quotas.records_per_period}
bytes_per_period = {config.quotas.bytes_per_period}
# Bytes of records from one peer this node holds at most.
stored_bytes = {config.quotas.stored_bytes}
# Records waiting in quarantine for a curator, all peers together; when full, new ones
# that would wait there are refused until curators review what waits.
quarantine_records = {config.quotas.quarantine_records}
quarantine_bytes = {config.quotas.quarantine_bytes}
"""


def load_config(path: Path) -> NodeConfig:
    """Read and check ``path``; raise :class:`ConfigError` naming what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: missing; is this a Rhizome home? (run rhizome init)") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error
    values = _checked_values(data, path)
    try:
        node_id = normalize_node_id(values.pop("node.id"))
    except InvalidNodeId as error:
        raise ConfigError(f"{path}: [node] id: {error}") from error
    values["quotas.quotas"] = _quotas(values, path)
    if "server.allowed_hosts" in values:
        values["server.allowed_hosts"] = _host_names(values["server.allowed_hosts"], path)
    config = NodeConfig(
        node_id=node_id, **{key.split(".")[1]: value for key, value in values.items()}
    )
    if not is_language_tag(config.language):
        raise ConfigError(f"{path}: [node] language: {config.language!r} is not a BCP 47 tag")
    if not 0 < config.port < 65536:
        raise ConfigError(f"{path}: [server] port: {config.port} is not a TCP port")
    if config.sync_interval < 5:
        raise ConfigError(f"{path}: [federation] sync_interval must be at least 5 seconds")
    return config


def _host_names(names: list[Any], path: Path) -> tuple[str, ...]:
    """``allowed_hosts``: host names or addresses, without scheme or port."""
    for name in names:
        if (
            not isinstance(name, str)
            or not re.fullmatch(r"\[?[A-Za-z0-9_.:-]+\]?", name)
            or name.count(":") == 1  # a port, which is not compared
        ):
            raise ConfigError(
                f"{path}: [server] allowed_hosts: {name!r} is not a host name or address "
                "(write it without http:// and without a port, e.g. \"hub.example.org\")"
            )
    return tuple(names)


def _quotas(values: dict[str, Any], path: Path) -> Quotas:
    """``[quotas]``: each a positive whole number; the keys left out keep their defaults."""
    given = {key[7:]: values.pop(key) for key in list(values) if key.startswith("quotas.")}
    for key, value in given.items():
        if value < 1:
            raise ConfigError(f"{path}: [quotas] {key} must be at least 1")
    return Quotas(**given)


def _checked_values(data: dict[str, Any], path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for section, content in data.items():
        if section not in _SCHEMA or not isinstance(content, dict):
            known = ", ".join(_SCHEMA)
            raise ConfigError(f"{path}: unknown section [{section}] (known: {known})")
        for key, value in content.items():
            expected = _SCHEMA[section].get(key)
            if expected is None:
                raise ConfigError(f"{path}: [{section}] unknown key '{key}'")
            if not isinstance(value, expected) or (
                isinstance(value, bool) and expected is not bool
            ):
                raise ConfigError(f"{path}: [{section}] {key} must be {expected.__name__}")
            values[f"{section}.{key}"] = value
    for required in ("node.id", "node.name", "node.region"):
        if required not in values:
            section, key = required.split(".")
            raise ConfigError(f"{path}: [{section}] {key} is missing")
    return values
