-- Reassignment rules (issue 18): a queue may move a ticket it assigned back to routing
-- when nobody answered it within N minutes, or when its agent went away or offline.
-- Ids, times and reasons in words only.

-- Per queue: the rules (null or 0: off), and since when they are on, so enabling them
-- never reaches back to tickets assigned before.
ALTER TABLE routing_queues ADD COLUMN reassign_unanswered_minutes INTEGER;
ALTER TABLE routing_queues ADD COLUMN reassign_when_away INTEGER NOT NULL DEFAULT 0;
ALTER TABLE routing_queues ADD COLUMN reassign_away_minutes INTEGER NOT NULL DEFAULT 5;
ALTER TABLE routing_queues ADD COLUMN reassign_within_hours INTEGER;
ALTER TABLE routing_queues ADD COLUMN reassign_max INTEGER NOT NULL DEFAULT 2;
ALTER TABLE routing_queues ADD COLUMN reassign_tag TEXT;
ALTER TABLE routing_queues ADD COLUMN reassign_since INTEGER;
ALTER TABLE routing_queues ADD COLUMN watch_next_at INTEGER NOT NULL DEFAULT 0;

-- Per assignment written: what the watch made of it. Null while it is watched;
-- answered (an agent replied), ended (reassigned by someone else, solved, pending),
-- releasing (being handed back to routing), released (handed back), kept (reassigned
-- the most times allowed already). watch_detail is the reason in words, with ids.
ALTER TABLE routing_assignments ADD COLUMN watch TEXT;
ALTER TABLE routing_assignments ADD COLUMN watch_detail TEXT;
ALTER TABLE routing_assignments ADD COLUMN watched_at INTEGER;
CREATE INDEX routing_assignments_watched ON routing_assignments (queue_id, state, watch, written_at);
CREATE INDEX routing_assignments_by_ticket ON routing_assignments (subdomain, ticket_id);
