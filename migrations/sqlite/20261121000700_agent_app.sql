-- The agents' Zendesk app (SQLite). Ids and hashes only: no names, emails or tokens.
-- Times are unix milliseconds.

-- Account tokens the app sends through Zendesk's proxy (a secure app setting). Only the
-- SHA-256 of the whole token is kept; the prefix names it in logs.
CREATE TABLE app_tokens (
    prefix            TEXT PRIMARY KEY,
    subdomain         TEXT NOT NULL,
    installation_id   INTEGER NOT NULL,
    secret_hash       TEXT NOT NULL,
    created_by        INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    revoked_at        INTEGER
);
CREATE INDEX app_tokens_by_installation ON app_tokens (subdomain, installation_id);

-- Who may use the app in an account: roles ("agent,admin") and group ids ("" = any).
CREATE TABLE app_settings (
    subdomain         TEXT PRIMARY KEY,
    allowed_roles     TEXT NOT NULL,
    allowed_group_ids TEXT NOT NULL DEFAULT '',
    updated_by        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- Pending Zendesk OAuth round trips started from the app: the hash of the state, the
-- hash of the nonce in the starting browser's cookie, what to do after (authorize,
-- board, routing, settings). Single use.
CREATE TABLE app_oauth_states (
    state_hash        TEXT PRIMARY KEY,
    browser_hash      TEXT NOT NULL,
    subdomain         TEXT NOT NULL,
    next_step         TEXT NOT NULL,
    installation_id   INTEGER,
    expires_at        INTEGER NOT NULL
);

-- The status API key an admin's board sessions act as (its secret is never kept or shown).
CREATE TABLE app_admin_keys (
    subdomain         TEXT NOT NULL,
    user_id           INTEGER NOT NULL,
    key_prefix        TEXT NOT NULL,
    PRIMARY KEY (subdomain, user_id)
);
