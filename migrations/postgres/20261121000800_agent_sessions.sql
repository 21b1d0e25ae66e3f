-- The agents' Zendesk app: verified agent sessions (PostgreSQL). Ids and hashes only.
-- Times are unix milliseconds.

-- One per app page Zendesk opened with a verified ZAF JWT: the agent it was signed for,
-- in which account and app installation. Only the SHA-256 of the session credential is
-- kept; the prefix names it in logs. Expired rows are deleted when new ones are made.
CREATE TABLE app_agent_sessions (
    prefix            TEXT PRIMARY KEY,
    secret_hash       TEXT NOT NULL,
    subdomain         TEXT NOT NULL,
    installation_id   BIGINT NOT NULL,
    user_id           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL
);
CREATE INDEX app_agent_sessions_by_expiry ON app_agent_sessions (expires_at);

-- The app's public key (PEM, public by nature) per installation, as Zendesk serves it
-- at GET /api/v2/apps/{app_id}/public_key.pem; refetched when stale.
CREATE TABLE app_public_keys (
    subdomain         TEXT NOT NULL,
    installation_id   BIGINT NOT NULL,
    app_id            BIGINT NOT NULL,
    public_key_pem    TEXT NOT NULL,
    fetched_at        BIGINT NOT NULL,
    PRIMARY KEY (subdomain, installation_id)
);
