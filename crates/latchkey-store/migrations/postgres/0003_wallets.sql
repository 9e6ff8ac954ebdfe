-- Wallets: each key sealed under a key derived from its user's key (never stored in clear).
CREATE TABLE wallets (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    entity_id         TEXT NOT NULL REFERENCES entities (id),
    user_internal_id  TEXT NOT NULL REFERENCES users (internal_id),
    wallet_set_id     TEXT NOT NULL,
    blockchain        TEXT NOT NULL,
    account_type      TEXT NOT NULL,
    address           TEXT NOT NULL,
    state             TEXT NOT NULL,
    name              TEXT,
    ref_id            TEXT,
    sealed_key        BYTEA NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX wallets_user ON wallets (entity_id, user_internal_id, seq);
CREATE INDEX wallets_address ON wallets (entity_id, address);
