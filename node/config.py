"""``config.toml``: the node's name, region, language, public URL and server address.

The file is meant to be read and edited by operators, so ``init`` writes it with comments
and every key it knows; loading checks every key and type and names the line that is wrong.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive import attachment_files
from archive.record import is_language_tag
from crypto.errors import N_, InvalidNodeId
from crypto.node_id import normalize_node_id
from federation.quotas import Quotas
from node.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
DEFAULT_SYNC_INTERVAL = 300
_SCHEMA: dict[str, dict[str, type]] = {
    "node": {"id": str, "name": str, "region": str, "language": str, "url": str},
    "server": {
        "host": str,
        "port": int,
        "public_read": bool,
        "allowed_hosts": list,
        "trusted_proxies": list,
        "tls": bool,
        "certificate": str,
        "key": str,
    },
    "federation": {"sync_interval": int, "allow_plain_http": bool},
    "quotas": {name: int for name in Quotas.__dataclass_fields__},
    "attachments": {"max_file_bytes": int, "max_lesson_bytes": int},
}


@dataclass(frozen=True)
class NodeConfig:
    node_id: str
    name: str
    region: str
    language: str = "en"
    url: str = f"https://{DEFAULT_HOST}:{DEFAULT_PORT}"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_read: bool = False
    allowed_hosts: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    sync_interval: int = DEFAULT_SYNC_INTERVAL
    # TLS: on by default with the node's own certificate; the operator's own files instead
    # (a domain's certificate), or off only behind a proxy on loopback.
    tls: bool = True
    certificate: str = ""
    key: str = ""
    allow_plain_http: bool = False
    quotas: Quotas = field(default_factory=Quotas)
    # [attachments]: caps per file and per lesson (docs/reference/limits.md).
    max_file_bytes: int = attachment_files.MAX_FILE_BYTES
    max_lesson_bytes: int = attachment_files.MAX_LESSON_BYTES


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
# Every page and the API need a signed-in member (or an API token), from this machine too.
# When true, anyone may list, search and read the lessons whose consent scope is "public"
# (and nothing else) without signing in. Peers never need it: federation signs its requests.
public_read = {str(config.public_read).lower()}
# The node answers only requests addressed to its own names (the url above, the address it
# listens on, localhost): a web page that points its own domain at this machine reads
# nothing. List here any other name people or a reverse proxy use to reach it.
allowed_hosts = [{", ".join(q(name) for name in config.allowed_hosts)}]
# Addresses or networks (e.g. "127.0.0.1", "10.0.0.0/8") of reverse proxies in front of the
# node: only from these are X-Forwarded-For and X-Forwarded-Proto believed. Leave it empty
# when nothing sits in front of the node.
trusted_proxies = [{", ".join(q(entry) for entry in config.trusted_proxies)}]
# HTTPS with a certificate the node makes from its own key (peers pin that key). To use a
# domain's certificate instead, name its files here (PEM). tls = false only behind a
# reverse proxy that speaks TLS, with host on loopback (docs/how-to/trust-the-certificate.md).
tls = {str(config.tls).lower()}
certificate = {q(config.certificate)}
key = {q(config.key)}

[federation]
# Seconds between background syncs with every active peer (news is pushed at once anyway).
sync_interval = {config.sync_interval}
# Plain http:// to peers on other machines is refused (anyone on the way could read it).
# true only for a lab: the node then warns at every start, in /healthz and in status.
allow_plain_http = {str(config.allow_plain_http).lower()}

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
        raise ConfigError.worded(
            N_("{path}: missing; is this a Rhizome home? (run rhizome init)"), path=path
        ) from error
    except UnicodeDecodeError as error:
        raise ConfigError.worded(N_("{path}: not UTF-8 text"), path=path) from error
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
    if "server.trusted_proxies" in values:
        values["server.trusted_proxies"] = _networks(values["server.trusted_proxies"], path)
    config = NodeConfig(
        node_id=node_id, **{key.split(".")[1]: value for key, value in values.items()}
    )
    if not is_language_tag(config.language):
        raise ConfigError.worded(
            N_("{path}: [node] language: {value} is not a BCP 47 tag"),
            path=path,
            value=repr(config.language),
        )
    if not 0 < config.port < 65536:
        raise ConfigError.worded(
            N_("{path}: [server] port: {port} is not a TCP port"), path=path, port=config.port
        )
    _check_tls(config, path)
    if config.max_file_bytes < 1 or config.max_lesson_bytes < config.max_file_bytes:
        raise ConfigError.worded(
            N_(
                "{path}: [attachments] max_file_bytes must be at least 1 and max_lesson_bytes "
                "at least max_file_bytes"
            ),
            path=path,
        )
    if config.sync_interval < 5:
        raise ConfigError.worded(
            N_("{path}: [federation] sync_interval must be at least 5 seconds"), path=path
        )
    return config


def _check_tls(config: NodeConfig, path: Path) -> None:
    if bool(config.certificate) != bool(config.key):
        raise ConfigError.worded(
            N_("{path}: [server] certificate and key go together: set both or neither"),
            path=path,
        )
    if not config.tls and not _is_loopback(config.host):
        raise ConfigError.worded(
            N_(
                "{path}: [server] tls = false is only for a node behind a TLS reverse proxy on "
                "this machine: set host to 127.0.0.1 (it is {host}), or turn tls back on"
            ),
            path=path,
            host=repr(config.host),
        )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _networks(entries: list[Any], path: Path) -> tuple[str, ...]:
    """``trusted_proxies``: addresses or networks in CIDR notation."""
    for entry in entries:
        try:
            if not isinstance(entry, str):
                raise TypeError(entry)
            ipaddress.ip_network(entry, strict=False)
        except (TypeError, ValueError):
            raise ConfigError.worded(
                N_(
                    "{path}: [server] trusted_proxies: {value} is not an address or a network "
                    '(write e.g. "127.0.0.1" or "10.0.0.0/8")'
                ),
                path=path,
                value=repr(entry),
            ) from None
    return tuple(entries)


def _host_names(names: list[Any], path: Path) -> tuple[str, ...]:
    """``allowed_hosts``: host names or addresses, without scheme or port."""
    for name in names:
        if (
            not isinstance(name, str)
            or not re.fullmatch(r"\[?[A-Za-z0-9_.:-]+\]?", name)
            or name.count(":") == 1  # a port, which is not compared
        ):
            raise ConfigError.worded(
                N_(
                    "{path}: [server] allowed_hosts: {value} is not a host name or address "
                    '(write it without http:// and without a port, e.g. "hub.example.org")'
                ),
                path=path,
                value=repr(name),
            )
    return tuple(names)


def _quotas(values: dict[str, Any], path: Path) -> Quotas:
    """``[quotas]``: each a positive whole number; the keys left out keep their defaults."""
    given = {key[7:]: values.pop(key) for key in list(values) if key.startswith("quotas.")}
    for key, value in given.items():
        if value < 1:
            raise ConfigError.worded(
                N_("{path}: [quotas] {key} must be at least 1"), path=path, key=key
            )
    return Quotas(**given)


def _checked_values(data: dict[str, Any], path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for section, content in data.items():
        if section not in _SCHEMA or not isinstance(content, dict):
            known = ", ".join(_SCHEMA)
            raise ConfigError.worded(
                N_("{path}: unknown section [{section}] (known: {known})"),
                path=path,
                section=section,
                known=known,
            )
        for key, value in content.items():
            expected = _SCHEMA[section].get(key)
            if expected is None:
                raise ConfigError.worded(
                    N_("{path}: [{section}] unknown key '{key}'"),
                    path=path,
                    section=section,
                    key=key,
                )
            if not isinstance(value, expected) or (
                isinstance(value, bool) and expected is not bool
            ):
                raise ConfigError.worded(
                    N_("{path}: [{section}] {key} must be {type}"),
                    path=path,
                    section=section,
                    key=key,
                    type=expected.__name__,
                )
            values[f"{section}.{key}"] = value
    for required in ("node.id", "node.name", "node.region"):
        if required not in values:
            section, key = required.split(".")
            raise ConfigError.worded(
                N_("{path}: [{section}] {key} is missing"), path=path, section=section, key=key
            )
    return values
