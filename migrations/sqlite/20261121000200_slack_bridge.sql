-- Slack bridge (SQLite): event deduplication, which Slack threads are tickets, same-sender
-- windows, which workspaces a Zendesk account may use, and Slack-side jobs. Ids only.

-- The Slack thread a message really sits in (its own ts for a top-level message); the
-- ticket thread (slack_thread_ts) differs when same-sender grouping joined it to another.
ALTER TABLE outbox ADD COLUMN slack_parent_ts TEXT;

CREATE TABLE slack_events (
    event_id          TEXT PRIMARY KEY,
    team_id           TEXT NOT NULL,
    received_at       INTEGER NOT NULL
);
CREATE INDEX slack_events_by_age ON slack_events (received_at);

CREATE TABLE threads (
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    team_id           TEXT NOT NULL,
    channel_id        TEXT NOT NULL,
    slack_thread_ts   TEXT NOT NULL,
    ticket_thread_ts  TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, team_id, channel_id, slack_thread_ts)
);

CREATE TABLE sender_windows (
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    team_id           TEXT NOT NULL,
    channel_id        TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    ticket_thread_ts  TEXT NOT NULL,
    last_at           INTEGER NOT NULL,
    PRIMARY KEY (account_id, team_id, channel_id, user_id)
);

CREATE TABLE workspace_grants (
    subdomain         TEXT NOT NULL,
    team_id           TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (subdomain, team_id)
);

CREATE TABLE slack_jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    team_id           TEXT NOT NULL,
    channel_id        TEXT NOT NULL,
    ts                TEXT NOT NULL,
    state             TEXT NOT NULL DEFAULT 'pending',
    attempts          INTEGER NOT NULL DEFAULT 0,
    run_after         INTEGER NOT NULL,
    lease_until       INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    UNIQUE (account_id, kind, team_id, channel_id, ts)
);
CREATE INDEX slack_jobs_due ON slack_jobs (state, run_after);

-- Loop prevention looks up the messages we posted for agents.
CREATE INDEX channelbacks_by_external_id ON channelbacks (external_id);
