-- Solana (issue 13): an attempt is valid only while its blockhash is; the engine gives it up
-- only when the finalized height is past last_valid_block_height and the node does not know
-- its signature (it is never re-signed: the key needs the PIN).
ALTER TABLE tx_attempts ADD COLUMN recent_blockhash TEXT;
ALTER TABLE tx_attempts ADD COLUMN last_valid_block_height INTEGER;

-- The Solana follower's place per address (a wallet, or one of its token accounts): the newest
-- signature recorded. getSignaturesForAddress(until = it) lists what came after.
CREATE TABLE solana_cursors (
    blockchain     TEXT NOT NULL,
    address        TEXT NOT NULL,
    last_signature TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (blockchain, address)
);
