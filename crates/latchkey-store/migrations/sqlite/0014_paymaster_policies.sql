-- The gas station's sponsorship policies (docs/sca.md#sponsorship-policy): per entity and
-- chain, whether latchkey's paymaster sponsors SCA operations there and within which daily
-- limits. A chain without a row has the default (testnets: active, no limits; mainnets:
-- not active). Native amounts are wei as decimal text (they pass 2^63); NULL is no limit.
CREATE TABLE paymaster_policies (
    entity_id         TEXT NOT NULL REFERENCES entities (id),
    blockchain        TEXT NOT NULL,
    active            INTEGER NOT NULL,
    max_native_daily  TEXT,
    max_native_per_tx TEXT,
    max_ops_daily     INTEGER,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (entity_id, blockchain)
);

-- A day's sponsored operations of an entity on a chain, which every SCA send reads.
CREATE INDEX transactions_sponsored ON transactions (entity_id, blockchain, created_at)
    WHERE user_op_hash IS NOT NULL;
