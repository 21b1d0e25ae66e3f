-- Slack workspaces are granted to one integration account (or to the admin UI set-up
-- session that installed them, until that new account is saved), never to a whole
-- subdomain: anyone can open a new account for any subdomain, so a subdomain proves nothing.
DROP TABLE workspace_grants;

CREATE TABLE workspace_grants (
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    team_id           TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (account_id, team_id)
);

CREATE TABLE session_grants (
    session_hash      TEXT NOT NULL,
    team_id           TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (session_hash, team_id)
);
