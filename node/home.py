"""The node home: one private folder holding everything a node is.

::

    HOME/            0700
      config.toml    name, region, language, URL, server address
      policy.toml    what may leave and come in
      home.key       a sealed home's home key, wrapped by the passphrase (node.sealed_home)
      node.key       the node's Ed25519 key (0600, sealed with the home key when sealed)
      tls-certificate.pem  the TLS certificate made from the node key (public)
      rhizome.db     the archive (SQLite, WAL mode; SQLCipher-encrypted when sealed)
      members/       one key per member (0600, sealed like the node key)
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import sqlite_utils

from crypto.errors import N_
from crypto.home_key import database_key, new_home_key
from crypto.keyfile import encode_key_file, write_key_file, write_private_file
from crypto.signing import SigningIdentity
from governance.members import Member, add_member, check_name, require_new_member_name
from governance.policy_file import write_default_policy
from node.config import NodeConfig, render_config
from node.database import open_database
from node.errors import HomeError
from node.tls import ensure_certificate

CONFIG_FILE = "config.toml"
POLICY_FILE = "policy.toml"
KEY_FILE = "node.key"
HOME_KEY_FILE = "home.key"  # a sealed home's wrapped home key (node.sealed_home)
DATABASE_FILE = "rhizome.db"
MEMBERS_DIR = "members"
OPERATOR = "admin"


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("rhizome", appauthor=False))


@dataclass(frozen=True)
class HomePaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def policy(self) -> Path:
        return self.root / POLICY_FILE

    @property
    def key(self) -> Path:
        return self.root / KEY_FILE

    @property
    def home_key(self) -> Path:
        return self.root / HOME_KEY_FILE

    @property
    def database(self) -> Path:
        return self.root / DATABASE_FILE

    @property
    def members(self) -> Path:
        return self.root / MEMBERS_DIR

    def member_key(self, name: str) -> Path:
        return self.members / f"{check_name(name)}.key"

    def require_new(self) -> None:
        """Refuse a folder where a node lives, or one holding other files."""
        if self.config.exists() or self.key.exists() or self.database.exists():
            raise HomeError.worded(
                N_("{path}: a node already lives here; refusing to overwrite it"), path=self.root
            )
        if self.root.exists() and any(self.root.iterdir()):
            raise HomeError.worded(
                N_("{path}: folder is not empty; pick an empty or new folder"), path=self.root
            )

    def require_existing(self) -> None:
        if not self.config.exists():
            raise HomeError.worded(
                N_("{path}: no Rhizome node here yet; run `rhizome init` first"), path=self.root
            )


def create_home(
    root: Path,
    *,
    name: str,
    region: str,
    language: str,
    url: str | None,
    host: str,
    port: int,
    passphrase: str | None,
    identity: SigningIdentity | None = None,
) -> tuple[NodeConfig, SigningIdentity]:
    """Create a new node home with a fresh key; refuse to touch an existing one."""
    paths = HomePaths(root)
    paths.require_new()
    existed = root.exists()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        return _fill_new_home(paths, name, region, language, url, host, port, passphrase, identity)
    except BaseException:
        # A half-made home (a full disk, Ctrl-C) would block the next `init`: the folder was
        # empty or new (require_new), so take back everything we put in it.
        for child in root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        if not existed:
            root.rmdir()
        raise


def _fill_new_home(
    paths: HomePaths,
    name: str,
    region: str,
    language: str,
    url: str | None,
    host: str,
    port: int,
    passphrase: str | None,
    identity: SigningIdentity | None,
) -> tuple[NodeConfig, SigningIdentity]:
    root = paths.root
    os.chmod(root, 0o700)
    identity = identity or SigningIdentity.generate()
    config = NodeConfig(
        node_id=identity.node_id,
        name=name,
        region=region,
        language=language,
        url=url or f"https://{host}:{port}",
        host=host,
        port=port,
    )
    # A passphrase seals the whole home: a home key wrapped by it, everything else under it.
    home_key = new_home_key() if passphrase else None
    if home_key is not None:
        write_private_file(paths.home_key, encode_key_file(home_key, passphrase))
    write_key_file(paths.key, identity.seed, passphrase, home_key=home_key)
    ensure_certificate(root, identity)  # public; `serve` makes it for homes older than TLS
    paths.config.write_text(render_config(config), encoding="utf-8")
    write_default_policy(paths.policy)
    db = open_database(paths.database, None if home_key is None else database_key(home_key))
    try:
        now = int(time.time())
        create_member(paths, db, identity, OPERATOR, ("admin",), None, now, home_key)
    finally:
        db.conn.close()
    return config, identity


def create_member(
    paths: HomePaths,
    db: sqlite_utils.Database,
    node: SigningIdentity,
    name: str,
    roles: tuple[str, ...],
    passphrase: str | None,
    now: int,
    home_key: bytes | None = None,
) -> Member:
    """A new member: a fresh key in members/NAME.key (sealed like the node key: with the
    home key of a sealed home, else with ``passphrase`` if any), certified."""
    require_new_member_name(db, name)  # before any key file is touched
    paths.members.mkdir(mode=0o700, exist_ok=True)
    member_key = SigningIdentity.generate()
    key_path = paths.member_key(name)
    write_key_file(key_path, member_key.seed, passphrase, home_key=home_key)
    try:
        return add_member(db, node, name, member_key.public_key, roles, now)
    except BaseException:
        key_path.unlink(missing_ok=True)
        raise
