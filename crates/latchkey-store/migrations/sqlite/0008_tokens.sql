-- The token registry's rows that are not in code, and the monitored-token configuration.
--
-- Circle's published tokens (USDC and the native coins, with Circle's ids) are a static table
-- in latchkey-core (money/registry.rs), so a correction is a code change with a test and no
-- start-up seeding step exists. This table holds the tokens seen on chain (SEEN, ids from
-- token_uuid) and the ones a development faucet deployed (LOCAL). A row whose id is a static
-- token's overrides it.
CREATE TABLE tokens (
    id             TEXT PRIMARY KEY,
    blockchain     TEXT NOT NULL,
    token_address  TEXT NOT NULL DEFAULT '',   -- '' = the native coin; hex addresses lowercase
    standard       TEXT,                       -- ERC20 | ERC721 | ERC1155 | … ; NULL when native
    name           TEXT,
    symbol         TEXT,
    decimals       INTEGER,
    is_native      INTEGER NOT NULL,
    origin         TEXT NOT NULL CHECK (origin IN ('SEED', 'SEEN', 'LOCAL')),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX tokens_chain_address ON tokens (blockchain, token_address);

-- Which tokens an entity sees by default, per environment: a TEST and a LIVE key of one
-- entity never share a list. No row = every token (Circle's default).
CREATE TABLE monitored_token_config (
    entity_id    TEXT NOT NULL REFERENCES entities (id),
    environment  TEXT NOT NULL CHECK (environment IN ('TEST', 'LIVE')),
    scope        TEXT NOT NULL CHECK (scope IN ('SELECTED', 'MONITOR_ALL')),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (entity_id, environment)
);

-- token_id names a static registry token or a tokens row, so it has no foreign key to
-- tokens; the service checks it exists before it is written.
CREATE TABLE monitored_tokens (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id    TEXT NOT NULL,
    environment  TEXT NOT NULL,
    token_id     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (entity_id, environment, token_id),
    FOREIGN KEY (entity_id, environment)
        REFERENCES monitored_token_config (entity_id, environment)
);
CREATE INDEX monitored_tokens_list ON monitored_tokens (entity_id, environment, seq);
