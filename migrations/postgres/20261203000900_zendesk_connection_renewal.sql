-- Issue 11: a Zendesk REST connection that renews itself. The sealed `credential` now
-- holds the whole grant (access token, refresh token, client id and secret, or the legacy
-- API token); these columns say when it expires and who is renewing it.
--
-- version          bumped on every change of `credential` (compare-and-swap for renewals)
-- state            active | needs_reconnect
-- renew_owner      the process holding the renewal lease, until renew_lease_until (ms)
ALTER TABLE zendesk_connections ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE zendesk_connections ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE zendesk_connections ADD COLUMN access_issued_at BIGINT;
ALTER TABLE zendesk_connections ADD COLUMN access_expires_at BIGINT;
ALTER TABLE zendesk_connections ADD COLUMN refresh_issued_at BIGINT;
ALTER TABLE zendesk_connections ADD COLUMN refresh_expires_at BIGINT;
ALTER TABLE zendesk_connections ADD COLUMN renewed_at BIGINT;
ALTER TABLE zendesk_connections ADD COLUMN last_error TEXT;
ALTER TABLE zendesk_connections ADD COLUMN last_error_at BIGINT;
ALTER TABLE zendesk_connections ADD COLUMN renew_owner TEXT;
ALTER TABLE zendesk_connections ADD COLUMN renew_lease_until BIGINT;
