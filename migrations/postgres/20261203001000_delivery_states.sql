-- Issue 12: delivery that never stalls.
--
-- outbox.state      pending | delivered | dead | discarded | withdrawn
--                   dead: given up (permanent error, or attempts/age exhausted); last_error
--                   keeps the code, never content. discarded: an admin gave up on it.
--                   withdrawn: deleted in Slack before Zendesk saw it.
-- outbox.give_up_at when a pending row stops being retried (ms); NULL = created_at + 24 h.
--                   An admin's Retry starts a new window.
-- outbox.dead_at    when it became dead (ms), for the admin UI.
-- slack_workspaces.bot_token_at  when the current bot token was stored (ms), so that an
--                   app_uninstalled / tokens_revoked retried after a reinstall is ignored.
ALTER TABLE outbox ADD COLUMN give_up_at BIGINT;
ALTER TABLE outbox ADD COLUMN dead_at BIGINT;
ALTER TABLE slack_workspaces ADD COLUMN bot_token_at BIGINT;
UPDATE outbox SET state = 'withdrawn' WHERE state = 'failed' AND last_error = 'deleted_in_slack';
UPDATE outbox SET state = 'dead', dead_at = created_at WHERE state = 'failed';
UPDATE slack_workspaces SET bot_token_at = updated_at WHERE bot_token IS NOT NULL;
-- Per-thread order: the earlier pending rows of a row's thread are found by this index.
CREATE INDEX outbox_by_thread ON outbox (account_id, slack_channel, slack_thread_ts, state, seq);

-- Agents' attachments go to Slack from a job, after the channelback has answered.
-- file_urls is sealed (the URLs may carry Zendesk tokens); no file content is kept.
-- state: pending | done | dead (last_error keeps the code).
CREATE TABLE attachment_jobs (
    id                BIGSERIAL PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    reply_external_id TEXT NOT NULL,
    thread_external_id TEXT NOT NULL,
    file_urls         BYTEA,
    state             TEXT NOT NULL DEFAULT 'pending',
    attempts          BIGINT NOT NULL DEFAULT 0,
    run_after         BIGINT NOT NULL,
    lease_until       BIGINT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    finished_at       BIGINT,
    UNIQUE (account_id, reply_external_id)
);
CREATE INDEX attachment_jobs_due ON attachment_jobs (state, run_after);
