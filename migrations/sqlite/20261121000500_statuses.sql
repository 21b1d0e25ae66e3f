-- Agent statuses (SQLite). Ids only: Zendesk user and group ids, no names or emails.
-- Times are unix milliseconds. Everything is keyed by the Zendesk subdomain, so a
-- connection made here belongs to the channel account(s) with the same subdomain.

CREATE TABLE zendesk_connections (
    subdomain         TEXT PRIMARY KEY,
    auth_kind         TEXT NOT NULL,
    credential        BLOB NOT NULL,
    connected_at      INTEGER NOT NULL,
    synced_at         INTEGER,
    sync_failure      TEXT
);

CREATE TABLE zendesk_agents (
    subdomain         TEXT NOT NULL,
    user_id           INTEGER NOT NULL,
    role              TEXT NOT NULL,
    default_group_id  INTEGER,
    group_ids         TEXT NOT NULL DEFAULT '',
    time_zone         TEXT,
    active            INTEGER NOT NULL DEFAULT 1,
    synced_at         INTEGER NOT NULL,
    -- last status call or app heartbeat for this agent (automatic idle)
    last_active_at    INTEGER,
    -- the Zendesk schedule that sets this agent online/offline, when chosen
    schedule_id       INTEGER,
    PRIMARY KEY (subdomain, user_id)
);

CREATE TABLE api_keys (
    prefix            TEXT PRIMARY KEY,
    subdomain         TEXT NOT NULL,
    owner_user_id     INTEGER NOT NULL,
    secret_hash       TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER,
    revoked_at        INTEGER,
    usage_day         INTEGER NOT NULL DEFAULT 0,
    usage_count       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_by_subdomain ON api_keys (subdomain);

CREATE TABLE agent_statuses (
    subdomain         TEXT NOT NULL,
    user_id           INTEGER NOT NULL,
    status            TEXT NOT NULL,
    updated_at        INTEGER NOT NULL,
    updated_by        INTEGER NOT NULL,
    PRIMARY KEY (subdomain, user_id)
);

CREATE TABLE status_changes (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    subdomain         TEXT NOT NULL,
    user_id           INTEGER NOT NULL,
    status            TEXT NOT NULL,
    changed_at        INTEGER NOT NULL,
    changed_by        INTEGER NOT NULL,
    -- api, idle or schedule
    source            TEXT NOT NULL DEFAULT 'api'
);
CREATE INDEX status_changes_by_time ON status_changes (subdomain, changed_at, seq);

-- Optional status rules of an account.
CREATE TABLE status_rules (
    subdomain         TEXT PRIMARY KEY,
    -- automatic idle: online agents with no activity for this long become away
    idle_minutes      INTEGER,
    -- out of office: tag put on an agent's open tickets when they leave online
    ooo_tag           TEXT,
    -- schedules: agents with a schedule go online/offline at its boundaries
    schedules_enabled INTEGER NOT NULL DEFAULT 0,
    -- schedule boundaries up to this time (unix ms) have been applied
    schedules_checked_at INTEGER,
    updated_at        INTEGER NOT NULL
);

-- Zendesk business-hours schedules: weekly intervals and holidays (dates only, no names).
CREATE TABLE zendesk_schedules (
    subdomain         TEXT NOT NULL,
    schedule_id       INTEGER NOT NULL,
    time_zone         TEXT NOT NULL,
    -- "start-end,start-end": minutes from Sunday 00:00 local time
    intervals         TEXT NOT NULL,
    -- "YYYY-MM-DD/YYYY-MM-DD,...": inclusive holiday date ranges
    holidays          TEXT NOT NULL DEFAULT '',
    synced_at         INTEGER NOT NULL,
    PRIMARY KEY (subdomain, schedule_id)
);

-- Pending Zendesk OAuth connections: the hash of the state sent to Zendesk, single use.
CREATE TABLE zendesk_oauth_states (
    state_hash        TEXT PRIMARY KEY,
    subdomain         TEXT NOT NULL,
    expires_at        INTEGER NOT NULL
);

-- Status board sign-ins: the hash of the cookie's random id, the API key it came from.
CREATE TABLE board_sessions (
    id_hash           TEXT PRIMARY KEY,
    key_prefix        TEXT NOT NULL,
    expires_at        INTEGER NOT NULL
);
