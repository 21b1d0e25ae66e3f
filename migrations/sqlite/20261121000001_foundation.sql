-- slackdesk foundation schema (SQLite). Only ids, hashes and sealed credentials are stored:
-- never message text, names, emails or files. Times are unix milliseconds.

CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,
    subdomain         TEXT NOT NULL,
    locale            TEXT NOT NULL,
    instance_push_id  TEXT,
    push_token        BLOB,
    secret_hash       TEXT NOT NULL,
    settings          TEXT NOT NULL DEFAULT '{}',
    active            INTEGER NOT NULL DEFAULT 1,
    push_failure      TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX accounts_by_subdomain ON accounts (subdomain);

CREATE TABLE setup_sessions (
    id_hash           TEXT PRIMARY KEY,
    account_id        TEXT,
    subdomain         TEXT NOT NULL,
    locale            TEXT NOT NULL,
    return_url        TEXT NOT NULL,
    instance_push_id  TEXT,
    push_token        BLOB,
    metadata          BLOB,
    expires_at        INTEGER NOT NULL
);

CREATE TABLE outbox (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    external_id       TEXT NOT NULL,
    kind              TEXT NOT NULL,
    slack_team        TEXT NOT NULL,
    slack_channel     TEXT NOT NULL,
    slack_ts          TEXT NOT NULL,
    slack_thread_ts   TEXT NOT NULL,
    slack_user        TEXT,
    state             TEXT NOT NULL DEFAULT 'pending',
    attempts          INTEGER NOT NULL DEFAULT 0,
    run_after         INTEGER NOT NULL,
    lease_until       INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    delivered_at      INTEGER,
    UNIQUE (account_id, external_id)
);
CREATE INDEX outbox_due ON outbox (state, run_after);
CREATE INDEX outbox_by_account ON outbox (account_id, state, seq);

CREATE TABLE channelbacks (
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    request_id        TEXT NOT NULL,
    state             TEXT NOT NULL,
    external_id       TEXT,
    started_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    PRIMARY KEY (account_id, request_id)
);

CREATE TABLE ticket_links (
    account_id          TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    external_id         TEXT NOT NULL,
    kind                TEXT NOT NULL,
    ticket_id           INTEGER NOT NULL,
    comment_id          INTEGER,
    follow_up_ticket_id INTEGER,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (account_id, external_id)
);

CREATE TABLE slack_workspaces (
    team_id           TEXT PRIMARY KEY,
    bot_user_id       TEXT,
    bot_id            TEXT,
    app_id            TEXT,
    bot_token         BLOB,
    needs_attention   TEXT,
    installed_at      INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE channel_links (
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    team_id           TEXT NOT NULL,
    channel_id        TEXT NOT NULL,
    settings          TEXT NOT NULL DEFAULT '{}',
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, team_id, channel_id)
);
CREATE INDEX channel_links_by_channel ON channel_links (team_id, channel_id);
