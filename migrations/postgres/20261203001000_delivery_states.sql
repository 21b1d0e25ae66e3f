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
