-- The schema of Rhizome's single positional migration list (archive/migrations.py at
-- commit 1de3dd0, versions 1..12), frozen: tests/archive/test_migrations.py builds
-- homes as that code made them and opens them with the per-package migrations.
-- Each version starts with a line '-- version N name'; statements end with ';;'.

-- version 1 m001_records
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    envelope BLOB NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    language TEXT NOT NULL,
    region TEXT NOT NULL,
    tags TEXT NOT NULL,
    sensitivity TEXT NOT NULL,
    scope TEXT NOT NULL,
    consent TEXT NOT NULL,
    origin TEXT NOT NULL,
    author TEXT NOT NULL,
    created INTEGER NOT NULL,
    supersedes TEXT,
    translation_of TEXT,
    received_from TEXT,
    stored_at INTEGER NOT NULL
);;
CREATE INDEX records_by_created ON records (created, id);;
CREATE INDEX records_by_supersedes ON records (supersedes);;
CREATE INDEX records_by_translation ON records (translation_of);;
CREATE VIRTUAL TABLE records_fts USING fts5(
    title, summary, body, tags,
    tokenize = "unicode61 remove_diacritics 2"
);;
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    detail TEXT NOT NULL,
    prev BLOB NOT NULL,
    hash BLOB NOT NULL,
    signature BLOB NOT NULL
);;

-- version 2 m002_federation
CREATE TABLE peers (
    node_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    url TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'removed')),
    added_at INTEGER NOT NULL,
    last_sync INTEGER,
    last_error TEXT,
    strikes INTEGER NOT NULL DEFAULT 0
);;
CREATE TABLE invites (
    invite_id BLOB PRIMARY KEY,
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by TEXT
);;
CREATE TABLE deliveries (
    record_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
    at INTEGER NOT NULL,
    PRIMARY KEY (record_id, peer_id, direction)
) WITHOUT ROWID;;
CREATE INDEX deliveries_by_peer ON deliveries (peer_id, direction);;
CREATE TABLE strikes (
    id INTEGER PRIMARY KEY,
    peer_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    record_id TEXT
);;

-- version 3 m003_governance
CREATE TABLE members (
    name TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    roles TEXT NOT NULL,
    certificate BLOB NOT NULL,
    added_at INTEGER NOT NULL,
    removed_at INTEGER,
    password_hash TEXT
);;
CREATE TABLE approvals (
    record_id TEXT NOT NULL,
    member TEXT NOT NULL,
    at INTEGER NOT NULL,
    envelope BLOB NOT NULL,
    PRIMARY KEY (record_id, member)
) WITHOUT ROWID;;
CREATE TABLE decisions (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    record_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    allowed INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    policy_hash TEXT NOT NULL,
    prev BLOB NOT NULL,
    hash BLOB NOT NULL
);;
CREATE INDEX decisions_by_record ON decisions (record_id, peer_id);;
CREATE TABLE decision_state (
    record_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (record_id, peer_id, direction)
) WITHOUT ROWID;;
ALTER TABLE records ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0;;
CREATE TABLE rejected_records (
    record_id TEXT PRIMARY KEY,
    peer_id TEXT,
    at INTEGER NOT NULL
) WITHOUT ROWID;;

-- version 4 m004_revocation
CREATE TABLE revocations (
    revocation_id TEXT PRIMARY KEY,
    envelope BLOB NOT NULL,
    origin TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    received_from TEXT,
    stored_at INTEGER NOT NULL,
    note TEXT
);;
CREATE TABLE tombstones (
    record_id TEXT NOT NULL,
    revocation_id TEXT NOT NULL REFERENCES revocations (revocation_id),
    PRIMARY KEY (record_id, revocation_id)
) WITHOUT ROWID;;
CREATE TABLE receipts (
    revocation_id TEXT NOT NULL,
    holder TEXT NOT NULL,
    purged_at INTEGER NOT NULL,
    receipt_id TEXT NOT NULL UNIQUE,
    envelope BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (revocation_id, holder)
) WITHOUT ROWID;;
CREATE TABLE outbox (
    kind TEXT NOT NULL CHECK (kind IN ('revocation', 'receipt')),
    item_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, item_id, peer_id)
) WITHOUT ROWID;;

-- version 5 m005_bundles
CREATE TABLE bundles_sent (
    file_hash TEXT PRIMARY KEY,
    bundle_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    created INTEGER NOT NULL,
    resume_seq INTEGER NOT NULL,
    records INTEGER NOT NULL
);;
CREATE INDEX events_by_subject ON events (subject);;

-- version 6 m006_peer_exchanges
CREATE TABLE peer_exchanges (
    id INTEGER PRIMARY KEY,
    peer_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    received INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    error TEXT
);;
CREATE INDEX peer_exchanges_by_peer ON peer_exchanges (peer_id, direction, id);;

-- version 7 m007_policy_bindings
CREATE TABLE policy_bindings (
    label TEXT PRIMARY KEY COLLATE NOCASE,
    node_id TEXT NOT NULL,
    bound_at INTEGER NOT NULL
);;

-- version 8 m008_purge_pending
CREATE TABLE purge_pending (revocation_id TEXT PRIMARY KEY, since INTEGER NOT NULL);;

-- version 9 m009_acknowledged_outbox
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent'));;
ALTER TABLE outbox ADD COLUMN last_attempt_at INTEGER;;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;;
CREATE TABLE seen_signatures (
    signature BLOB PRIMARY KEY,
    created INTEGER NOT NULL
) WITHOUT ROWID;;
CREATE INDEX seen_signatures_by_created ON seen_signatures (created);;
CREATE TABLE copies_seen (
    revocation_id TEXT NOT NULL,
    holder TEXT NOT NULL,
    record_id TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    how TEXT NOT NULL,
    contradicts TEXT,
    PRIMARY KEY (revocation_id, holder, record_id)
) WITHOUT ROWID;;

-- version 10 m010_derived_tombstones
ALTER TABLE tombstones ADD COLUMN derived_origin TEXT;;

-- version 11 m011_lesson_sources
CREATE TABLE lesson_sources (
    content_key BLOB PRIMARY KEY,
    record_id TEXT NOT NULL,
    path_key BLOB,
    name_key BLOB,
    stored_at INTEGER NOT NULL
) WITHOUT ROWID;;
CREATE INDEX lesson_sources_by_path ON lesson_sources (path_key);;
CREATE INDEX lesson_sources_by_name ON lesson_sources (name_key);;
CREATE TABLE lesson_source_key (key BLOB NOT NULL);;
INSERT INTO lesson_source_key (key) VALUES (randomblob(32));;

-- version 12 m012_peer_quotas
CREATE TABLE peer_intake (
    peer_id TEXT PRIMARY KEY,
    period_start INTEGER NOT NULL,
    records INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    refused_until INTEGER NOT NULL,
    struck INTEGER NOT NULL
);;
CREATE TABLE peer_holdings (
    peer_id TEXT PRIMARY KEY,
    records INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    quarantined_bytes INTEGER NOT NULL
);;
INSERT INTO peer_holdings
SELECT received_from, count(*), sum(length(envelope)), sum(quarantined),
       sum(quarantined * length(envelope))
FROM records WHERE received_from IS NOT NULL GROUP BY received_from;;
CREATE TRIGGER peer_holdings_on_insert AFTER INSERT ON records
WHEN NEW.received_from IS NOT NULL
BEGIN
    INSERT INTO peer_holdings VALUES (NEW.received_from, 1, length(NEW.envelope),
        NEW.quarantined, NEW.quarantined * length(NEW.envelope))
    ON CONFLICT (peer_id) DO UPDATE SET records = records + 1,
        bytes = bytes + excluded.bytes, quarantined = quarantined + excluded.quarantined,
        quarantined_bytes = quarantined_bytes + excluded.quarantined_bytes;
END;;
CREATE TRIGGER peer_holdings_on_delete AFTER DELETE ON records
WHEN OLD.received_from IS NOT NULL
BEGIN
    UPDATE peer_holdings SET records = records - 1,
        bytes = bytes - length(OLD.envelope), quarantined = quarantined - OLD.quarantined,
        quarantined_bytes = quarantined_bytes - OLD.quarantined * length(OLD.envelope)
    WHERE peer_id = OLD.received_from;
END;;
CREATE TRIGGER peer_holdings_on_update AFTER UPDATE OF quarantined, envelope,
    received_from ON records
BEGIN
    UPDATE peer_holdings SET records = records - 1,
        bytes = bytes - length(OLD.envelope), quarantined = quarantined - OLD.quarantined,
        quarantined_bytes = quarantined_bytes - OLD.quarantined * length(OLD.envelope)
    WHERE peer_id = OLD.received_from;
    INSERT INTO peer_holdings SELECT NEW.received_from, 1, length(NEW.envelope),
        NEW.quarantined, NEW.quarantined * length(NEW.envelope)
    WHERE NEW.received_from IS NOT NULL
    ON CONFLICT (peer_id) DO UPDATE SET records = records + 1,
        bytes = bytes + excluded.bytes, quarantined = quarantined + excluded.quarantined,
        quarantined_bytes = quarantined_bytes + excluded.quarantined_bytes;
END;;
