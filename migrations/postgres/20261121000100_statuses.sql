-- Agent statuses (PostgreSQL). Ids only: Zendesk user and group ids, no names or emails.
-- Times are unix milliseconds. Everything is keyed by the Zendesk subdomain, so a
-- connection made here belongs to the channel account(s) with the same subdomain.

CREATE TABLE zendesk_connections (
    subdomain         TEXT PRIMARY KEY,
    auth_kind         TEXT NOT NULL,
    credential        BYTEA NOT NULL,
    connected_at      BIGINT NOT NULL,
    synced_at         BIGINT,
    sync_failure      TEXT
);

CREATE TABLE zendesk_agents (
    subdomain         TEXT NOT NULL,
    user_id           BIGINT NOT NULL,
    role              TEXT NOT NULL,
    default_group_id  BIGINT,
    group_ids         TEXT NOT NULL DEFAULT '',
    time_zone         TEXT,
    active            BIGINT NOT NULL DEFAULT 1,
    synced_at         BIGINT NOT NULL,
    PRIMARY KEY (subdomain, user_id)
);

CREATE TABLE api_keys (
    prefix            TEXT PRIMARY KEY,
    subdomain         TEXT NOT NULL,
    owner_user_id     BIGINT NOT NULL,
    secret_hash       TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    last_used_at      BIGINT,
    revoked_at        BIGINT,
    usage_day         BIGINT NOT NULL DEFAULT 0,
    usage_count       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_by_subdomain ON api_keys (subdomain);

CREATE TABLE agent_statuses (
    subdomain         TEXT NOT NULL,
    user_id           BIGINT NOT NULL,
    status            TEXT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        BIGINT NOT NULL,
    PRIMARY KEY (subdomain, user_id)
);

CREATE TABLE status_changes (
    seq               BIGSERIAL PRIMARY KEY,
    subdomain         TEXT NOT NULL,
    user_id           BIGINT NOT NULL,
    status            TEXT NOT NULL,
    changed_at        BIGINT NOT NULL,
    changed_by        BIGINT NOT NULL
);
CREATE INDEX status_changes_by_time ON status_changes (subdomain, changed_at, seq);
