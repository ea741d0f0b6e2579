-- Patch state: the patches section itself lives in `sections` (section 4) like the
-- others; this table keeps its summary per host, so that the fleet view and the patch
-- rules read one row per host. Rewritten in the same transaction as the section.
-- Times are seconds since the Unix epoch (agent clock, clamped to the collector's);
-- 0 means "not applicable" or "not known".
CREATE TABLE host_patches (
    host_id               TEXT    NOT NULL PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    pending               INTEGER NOT NULL,
    security              INTEGER NOT NULL,
    held_back             INTEGER NOT NULL,
    security_since        INTEGER NOT NULL,
    pending_since         INTEGER NOT NULL,
    reboot_required       INTEGER NOT NULL,
    reboot_required_since INTEGER NOT NULL,
    restart_units         INTEGER NOT NULL,
    running_kernel        TEXT    NOT NULL,
    newest_kernel         TEXT    NOT NULL,
    managers              TEXT    NOT NULL,
    -- When the collector last received the section (changed or not).
    reported_at           INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
