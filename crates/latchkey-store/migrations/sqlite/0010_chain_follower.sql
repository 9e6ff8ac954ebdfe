-- The inbound follower's place on each chain: the next block to read, and the lease that lets
-- one server instance follow a chain at a time (the engine's pattern).
CREATE TABLE chains (
    blockchain   TEXT PRIMARY KEY,
    next_block   INTEGER,                -- NULL until first followed (it starts at the head)
    lease_until  INTEGER,
    lease_token  TEXT,
    updated_at   INTEGER NOT NULL
);
