-- The incremental export (GET /zendesk/incremental/user_statuses) pairs each change with
-- the same agent's previous one (MAX(seq) below it): one index seek per period.
CREATE INDEX status_changes_by_agent ON status_changes (subdomain, user_id, seq);
