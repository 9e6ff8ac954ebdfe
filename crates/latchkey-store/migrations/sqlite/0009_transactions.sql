-- Transactions (the money half): what the outbound engine and the inbound follower write,
-- every signed artefact of an outbound transaction, and the per-wallet nonce bookkeeping.
-- Every 256-bit quantity (amounts, fees, wei) is decimal TEXT: no integer column holds wei.
-- token_id names no table on purpose: seeded tokens live in code, not in `tokens`.
CREATE TABLE transactions (
    seq                    INTEGER PRIMARY KEY AUTOINCREMENT,
    id                     TEXT NOT NULL UNIQUE,
    entity_id              TEXT NOT NULL REFERENCES entities (id),
    user_internal_id       TEXT NOT NULL REFERENCES users (internal_id),
    wallet_id              TEXT NOT NULL REFERENCES wallets (id),
    blockchain             TEXT NOT NULL,
    tx_type                TEXT NOT NULL,          -- INBOUND | OUTBOUND
    operation              TEXT NOT NULL,          -- TRANSFER | CONTRACT_EXECUTION | CONTRACT_DEPLOYMENT
    state                  TEXT NOT NULL,
    token_id               TEXT,                   -- NULL for a contract call without value
    amounts                TEXT NOT NULL DEFAULT '[]',  -- JSON ["0.01"], whole units
    nft_token_ids          TEXT,                   -- JSON ["7"]
    source_address         TEXT,
    destination_address    TEXT,
    contract_address       TEXT,
    abi_function_signature TEXT,
    abi_parameters         TEXT,                   -- JSON array
    call_data              TEXT,
    ref_id                 TEXT,
    fee_level              TEXT,                   -- LOW | MEDIUM | HIGH
    estimated_fee          TEXT,                   -- JSON TransactionFee
    nonce                  INTEGER,                    -- OUTBOUND EVM
    tx_hash                TEXT,                   -- the attempt that counts (last sent / mined)
    block_hash             TEXT,
    block_height           INTEGER,
    first_confirm_date     INTEGER,
    network_fee            TEXT,                   -- decimal native units, from the receipt
    error_reason           TEXT,
    error_details          TEXT,
    challenge_id           TEXT,                   -- OUTBOUND: the creating challenge
    log_index              INTEGER,                    -- INBOUND: -1 native value, else the log index
    sent_at                INTEGER,                    -- first broadcast accepted (STUCK timer)
    next_check_at          INTEGER NOT NULL,           -- engine / follower scheduling
    lease_until            INTEGER,
    lease_token            TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX transactions_user ON transactions (entity_id, user_internal_id, seq);
CREATE INDEX transactions_wallet ON transactions (wallet_id, seq);
CREATE INDEX transactions_hash ON transactions (blockchain, tx_hash);
CREATE INDEX transactions_due ON transactions (blockchain, state, next_check_at);
-- One live outbound transaction per nonce of a wallet (a FAILED one gave its nonce back).
CREATE UNIQUE INDEX transactions_outbound_nonce ON transactions (wallet_id, nonce)
    WHERE tx_type = 'OUTBOUND' AND nonce IS NOT NULL AND state NOT IN ('FAILED');
-- One inbound record per transfer seen on chain, however often the follower reads the block.
CREATE UNIQUE INDEX transactions_inbound_once
    ON transactions (blockchain, tx_hash, log_index, wallet_id)
    WHERE tx_type = 'INBOUND';

-- Every signed artefact ever stored for a transaction, written before any broadcast.
CREATE TABLE tx_attempts (
    id                TEXT PRIMARY KEY,
    transaction_id    TEXT NOT NULL REFERENCES transactions (id),
    kind              TEXT NOT NULL,               -- ORIGINAL | ACCELERATE | CANCEL
    challenge_id      TEXT NOT NULL,
    nonce             INTEGER NOT NULL,
    raw               BLOB NOT NULL,               -- the signed bytes
    tx_hash           TEXT NOT NULL UNIQUE,
    gas_limit         TEXT NOT NULL,               -- gas units; the fees below in wei
    max_fee           TEXT,
    priority_fee      TEXT,
    gas_price         TEXT,
    status            TEXT NOT NULL,               -- STORED | BROADCAST | MINED | DROPPED | REPLACED | REJECTED
    last_error        TEXT,
    broadcasts        INTEGER NOT NULL DEFAULT 0,
    last_broadcast_at INTEGER,
    created_at        INTEGER NOT NULL
);
CREATE INDEX tx_attempts_tx ON tx_attempts (transaction_id, created_at);

-- Per-wallet nonces handed out by the database, so two instances never sign one nonce twice.
CREATE TABLE wallet_nonces (
    wallet_id  TEXT PRIMARY KEY REFERENCES wallets (id),
    next_nonce INTEGER NOT NULL
);
CREATE TABLE nonce_claims (
    wallet_id      TEXT NOT NULL REFERENCES wallets (id),
    nonce          INTEGER NOT NULL,
    state          TEXT NOT NULL,                  -- RESERVED | USED | RELEASED | DEAD
    challenge_id   TEXT,                           -- the execution holding a RESERVED claim
    transaction_id TEXT,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (wallet_id, nonce)
);
CREATE UNIQUE INDEX nonce_claims_challenge ON nonce_claims (challenge_id) WHERE state = 'RESERVED';
CREATE INDEX nonce_claims_free ON nonce_claims (wallet_id, state, nonce);

-- Tokens a wallet has touched: which balanceOf calls its balances need.
CREATE TABLE wallet_tokens (
    wallet_id  TEXT NOT NULL REFERENCES wallets (id),
    token_id   TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (wallet_id, token_id)
);
