-- Ticket routing (SQLite). Ids, counts, settings and reasons only: no ticket subjects,
-- no names, no emails. Times are unix milliseconds. Keyed by Zendesk subdomain like the
-- statuses tables.

-- An account's routing settings: defaults for agent limits, the same-agent rule, the
-- Zendesk webhook signing secret (sealed) and the sync cursors.
CREATE TABLE routing_settings (
    subdomain              TEXT PRIMARY KEY,
    default_inbox_limit    INTEGER,
    default_daily_limit    INTEGER,
    same_agent_enabled     INTEGER NOT NULL DEFAULT 0,
    same_agent_window_hours INTEGER NOT NULL DEFAULT 72,
    same_agent_only_online INTEGER NOT NULL DEFAULT 1,
    same_agent_within_limits INTEGER NOT NULL DEFAULT 1,
    same_agent_tag         TEXT,
    -- AES-GCM sealed signing secrets of the two Zendesk webhooks calling us
    route_webhook_secret   BLOB,
    same_agent_webhook_secret BLOB,
    -- incremental ticket export cursor (open-ticket counts)
    tickets_cursor         TEXT,
    tickets_synced_at      INTEGER,
    -- incremental skills export cursor and the last full skills sync
    skills_cursor          TEXT,
    skills_synced_at       INTEGER,
    skills_full_at         INTEGER,
    skills_resync_requested INTEGER NOT NULL DEFAULT 0,
    sync_failure           TEXT,
    -- lease for the account's sync work, so one replica syncs at a time
    sync_lease_owner       TEXT,
    sync_lease_until       INTEGER,
    updated_at             INTEGER NOT NULL
);

CREATE TABLE routing_queues (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    subdomain         TEXT NOT NULL,
    name              TEXT NOT NULL,
    position          INTEGER NOT NULL,
    view_id           INTEGER NOT NULL,
    -- scheduled or trigger
    kind              TEXT NOT NULL,
    -- round_robin, least_active or skills
    model             TEXT NOT NULL,
    interval_secs     INTEGER NOT NULL DEFAULT 60,
    batch_size        INTEGER NOT NULL DEFAULT 5,
    use_sla           INTEGER NOT NULL DEFAULT 0,
    skills_timeout_minutes INTEGER,
    audit_tag         TEXT,
    audit_field_id    INTEGER,
    audit_field_value TEXT,
    enabled           INTEGER NOT NULL DEFAULT 1,
    -- round robin: per pool (the ticket's group, "-" for none) the agent who got the
    -- last ticket, as "pool:agent,..." (shared by replicas)
    rr_pointers       TEXT NOT NULL DEFAULT '',
    lease_owner       TEXT,
    lease_until       INTEGER,
    next_run_at       INTEGER NOT NULL DEFAULT 0,
    last_run_at       INTEGER,
    last_run_error    TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX routing_queues_by_account ON routing_queues (subdomain, position);
CREATE INDEX routing_queues_due ON routing_queues (kind, enabled, next_run_at);

CREATE TABLE routing_agent_limits (
    subdomain         TEXT NOT NULL,
    user_id           INTEGER NOT NULL,
    inbox_limit       INTEGER,
    daily_limit       INTEGER,
    PRIMARY KEY (subdomain, user_id)
);

-- Unsolved tickets as the incremental export reported them: who holds how many.
CREATE TABLE routing_tickets (
    subdomain         TEXT NOT NULL,
    ticket_id         INTEGER NOT NULL,
    assignee_id       INTEGER,
    status            TEXT NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (subdomain, ticket_id)
);
CREATE INDEX routing_tickets_by_assignee ON routing_tickets (subdomain, assignee_id);

-- Skills: agents' skill (attribute value) ids and tickets' required ones.
CREATE TABLE routing_agent_skills (
    subdomain         TEXT NOT NULL,
    user_id           INTEGER NOT NULL,
    value_id          TEXT NOT NULL,
    PRIMARY KEY (subdomain, user_id, value_id)
);
CREATE TABLE routing_ticket_skills (
    subdomain         TEXT NOT NULL,
    ticket_id         INTEGER NOT NULL,
    -- comma-separated attribute value ids, sorted; empty when the ticket has none
    value_ids         TEXT NOT NULL,
    fetched_at        INTEGER NOT NULL,
    PRIMARY KEY (subdomain, ticket_id)
);

-- A ticket taken by a run: nobody else routes it until the claim expires.
CREATE TABLE routing_claims (
    subdomain         TEXT NOT NULL,
    ticket_id         INTEGER NOT NULL,
    claimed_until     INTEGER NOT NULL,
    -- the assignment holding the claim: only it may extend or release the claim
    assignment_id     INTEGER,
    PRIMARY KEY (subdomain, ticket_id)
);

-- The assignment log: one row per decision written (or being written) to Zendesk.
CREATE TABLE routing_assignments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    subdomain         TEXT NOT NULL,
    ticket_id         INTEGER NOT NULL,
    agent_id          INTEGER NOT NULL,
    -- null for the same-agent rule
    queue_id          INTEGER,
    -- round_robin, least_active, skills or same_agent
    model             TEXT NOT NULL,
    reason            TEXT NOT NULL,
    -- the ticket's updated_at when decided: a ticket changed since is not written
    decided_stamp     TEXT,
    -- pending (decided, being written), assigned, skipped (changed meanwhile), failed
    state             TEXT NOT NULL,
    detail            TEXT,
    decided_at        INTEGER NOT NULL,
    written_at        INTEGER
);
CREATE INDEX routing_assignments_by_time ON routing_assignments (subdomain, decided_at);
CREATE INDEX routing_assignments_by_agent ON routing_assignments (subdomain, agent_id, decided_at);
CREATE INDEX routing_assignments_pending ON routing_assignments (state, decided_at);

-- Webhook calls accepted and not yet handled (trigger queues, same agent): stored before
-- the 200, handled at least once, deduplicated by ticket.
CREATE TABLE routing_requests (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    subdomain         TEXT NOT NULL,
    -- route or same_agent
    kind              TEXT NOT NULL,
    ticket_id         INTEGER NOT NULL,
    queue_id          INTEGER,
    received_at       INTEGER NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    -- calls received for this ticket; a call during handling re-arms the row
    calls             INTEGER NOT NULL DEFAULT 1,
    next_attempt_at   INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_until       INTEGER,
    UNIQUE (subdomain, kind, ticket_id)
);
CREATE INDEX routing_requests_due ON routing_requests (next_attempt_at);
