-- Alerts: one row per fingerprint (rule, host, subject) for the alert's whole life, so a
-- condition that returns reopens the same alert with its history. Times are seconds since
-- the Unix epoch; 0 means "not applicable".
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT    NOT NULL UNIQUE,
    rule        TEXT    NOT NULL,
    host_id     TEXT    NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    subject     TEXT    NOT NULL,
    -- info, low, medium, high, critical
    severity    TEXT    NOT NULL,
    -- open, acknowledged, resolved
    status      TEXT    NOT NULL,
    silenced    INTEGER NOT NULL DEFAULT 0,
    summary     TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    resolved_at INTEGER NOT NULL DEFAULT 0,
    resolution  TEXT    NOT NULL DEFAULT ''
) STRICT;

-- The rule engine asks for a host's unresolved alerts of a rule at every report.
CREATE INDEX alerts_unresolved ON alerts (host_id, rule) WHERE status <> 'resolved';
-- Listing walks (last_seen, id) newest first.
CREATE INDEX alerts_by_last_seen ON alerts (last_seen DESC, id DESC);

-- Every change of an alert, in order: the id is what `wardctl alerts watch` resumes from.
CREATE TABLE alert_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    note     TEXT    NOT NULL DEFAULT '',
    status   TEXT    NOT NULL
) STRICT;

CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);

-- Maintenance windows.
CREATE TABLE silences (
    id         TEXT    NOT NULL PRIMARY KEY,
    rule       TEXT    NOT NULL,
    host       TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    comment    TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX silences_by_end ON silences (ends_at);
