-- Group split and dedicated agents (issue 18, item 6). Ids, weights and counts only.

-- A queue may split its tickets between groups by weight ("group:weight,..."), and
-- keeps how many each group got so far ("group:count,...") so the split holds over time.
ALTER TABLE routing_queues ADD COLUMN split_groups TEXT NOT NULL DEFAULT '';
ALTER TABLE routing_queues ADD COLUMN split_counts TEXT NOT NULL DEFAULT '';

-- The group a decision moves the ticket to (the split's), written with the assignee.
ALTER TABLE routing_assignments ADD COLUMN set_group_id BIGINT;

-- An organization's or a requester's dedicated agent, and who takes over when that
-- agent is not eligible (null: the queue's own model decides).
CREATE TABLE routing_dedicated_agents (
    subdomain         TEXT NOT NULL,
    -- organization or requester
    kind              TEXT NOT NULL,
    key_id            BIGINT NOT NULL,
    agent_id          BIGINT NOT NULL,
    fallback_agent_id BIGINT,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (subdomain, kind, key_id)
);
