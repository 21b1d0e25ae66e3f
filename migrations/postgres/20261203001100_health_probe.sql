-- Issue 19: `/readyz` proves that the database takes writes by updating this one row.
CREATE TABLE health_probe (
    id          INTEGER PRIMARY KEY,
    written_at  BIGINT NOT NULL
);
INSERT INTO health_probe (id, written_at) VALUES (1, 0);
