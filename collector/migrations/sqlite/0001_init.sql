-- The collector's state: enrolled hosts, their inventory sections, and enrolment tokens.
-- Times are seconds since the Unix epoch. Tables are STRICT so that a wrongly typed bind
-- fails loudly instead of being stored as whatever SQLite's type affinity makes of it.

CREATE TABLE hosts (
    id             TEXT    NOT NULL PRIMARY KEY,
    -- Denormalized from the sections so that listing hosts reads one table.
    hostname       TEXT    NOT NULL,
    os_id          TEXT    NOT NULL DEFAULT '',
    os_pretty_name TEXT    NOT NULL DEFAULT '',
    kernel_release TEXT    NOT NULL DEFAULT '',
    architecture   TEXT    NOT NULL DEFAULT '',
    machine_id     TEXT    NOT NULL DEFAULT '',
    memory_bytes   INTEGER NOT NULL DEFAULT 0,
    logical_cores  INTEGER NOT NULL DEFAULT 0,
    -- Packages in state "installed".
    software_count INTEGER NOT NULL DEFAULT 0,
    agent_version  TEXT    NOT NULL DEFAULT '',
    cert_serial    TEXT    NOT NULL,
    cert_not_after INTEGER NOT NULL,
    enrolled_at    INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL,
    -- 0 until the first report.
    last_report    INTEGER NOT NULL DEFAULT 0,
    -- Highest report sequence applied; a report at or below it changes nothing.
    last_sequence  INTEGER NOT NULL DEFAULT 0,
    revoked        INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Keyset paging of list_hosts walks (hostname, id).
CREATE INDEX hosts_by_hostname ON hosts (hostname, id);

-- One row per section a host has sent: its canonical hash and prost-encoded body.
CREATE TABLE sections (
    host_id    TEXT    NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    -- ward.v1.Section number.
    section    INTEGER NOT NULL,
    hash       BLOB    NOT NULL,
    body       BLOB    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (host_id, section)
) STRICT, WITHOUT ROWID;

-- The software section again, one row per package, so find_software is an index lookup.
-- Rewritten in the same transaction as the software section.
CREATE TABLE host_software (
    host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    arch    TEXT NOT NULL,
    source  TEXT NOT NULL,
    state   TEXT NOT NULL,
    PRIMARY KEY (host_id, name, arch, version, source)
) STRICT, WITHOUT ROWID;

CREATE INDEX host_software_by_name ON host_software (name);

CREATE TABLE enrollment_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    -- SHA-256 of the token; the token itself is never stored.
    hash       BLOB    NOT NULL UNIQUE,
    uses_total INTEGER NOT NULL,
    uses_left  INTEGER NOT NULL CHECK (uses_left >= 0),
    expires_at INTEGER NOT NULL,
    label      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;
