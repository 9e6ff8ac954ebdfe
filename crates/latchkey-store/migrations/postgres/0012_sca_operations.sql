-- ERC-4337 UserOperations from SCA wallets, bundled by the chain's gas-station key.
--
-- wallets.deployed_at: when the account's first operation was COMPLETE (its Safe deployed);
-- NULL before. transactions.user_op_hash: the operation's EntryPoint hash (Circle's
-- userOpHash); NULL for EOA transactions. tx_attempts.kind gains USER_OPERATION (the signed
-- PackedUserOperation, ABI-encoded, hash = userOpHash, nonce = the EntryPoint nonce) and
-- BUNDLE (the station's signed handleOps transaction): a text column, no schema change.
ALTER TABLE wallets ADD COLUMN deployed_at BIGINT;
ALTER TABLE transactions ADD COLUMN user_op_hash TEXT;

-- One operation in flight per SCA wallet (155505 is answered before; this is the backstop
-- for two executions committing at once).
CREATE UNIQUE INDEX transactions_one_user_op ON transactions (wallet_id)
    WHERE user_op_hash IS NOT NULL AND state IN ('INITIATED', 'QUEUED', 'SENT', 'STUCK');

-- The gas-station keys' nonces, handed out by the database as wallet nonces are
-- (wallet_nonces / nonce_claims): station = 'BLOCKCHAIN:0xaddress', holder_id = the
-- transaction whose bundle holds a RESERVED claim.
CREATE TABLE station_nonces (
    station    TEXT PRIMARY KEY,
    next_nonce BIGINT NOT NULL
);
CREATE TABLE station_nonce_claims (
    station        TEXT NOT NULL,
    nonce          BIGINT NOT NULL,
    state          TEXT NOT NULL,                  -- RESERVED | USED | RELEASED | DEAD
    holder_id      TEXT,
    transaction_id TEXT,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (station, nonce)
);
CREATE UNIQUE INDEX station_nonce_claims_holder ON station_nonce_claims (holder_id) WHERE state = 'RESERVED';
CREATE INDEX station_nonce_claims_free ON station_nonce_claims (station, state, nonce);
