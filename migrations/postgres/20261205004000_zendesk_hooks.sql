-- Webhooks and triggers slackdesk makes in Zendesk itself (issue 13, item 4): for each
-- account and webhook kind ('route', 'same_agent'), the Zendesk ids of what it made.
-- Ids, times and error codes only; the signing secret stays sealed in routing_settings.
--
-- Row queue_id = 0 is the webhook itself (webhook_id) and carries the lease that keeps
-- two admins or replicas from making it twice; the same-agent trigger is on that row
-- too. A trigger queue's trigger is a row of its own (queue_id = the queue's id).
CREATE TABLE zendesk_hooks (
    subdomain   TEXT NOT NULL,
    hook        TEXT NOT NULL,
    queue_id    BIGINT NOT NULL DEFAULT 0,
    webhook_id  TEXT,
    trigger_id  BIGINT,
    made_at     BIGINT,
    -- when Zendesk was last asked whether it still exists, and its answer (1: gone)
    checked_at  BIGINT,
    missing     BIGINT NOT NULL DEFAULT 0,
    -- code of the last failure making or removing them (null: the last attempt worked)
    last_error  TEXT,
    busy_until  BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (subdomain, hook, queue_id)
);
