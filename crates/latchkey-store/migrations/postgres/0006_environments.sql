-- TEST and LIVE are separate worlds: a user and a webhook subscription belong to the
-- environment of the API key that created them; wallets and challenges are reached only
-- through their user. The same userId may exist once in each environment.
--
-- Existing rows (nothing recorded which key created them): a user is LIVE when it holds
-- wallets and all of them are on mainnets (only a LIVE key could create those), or when its
-- entity has LIVE keys and no TEST key; otherwise TEST. A subscription is LIVE when its entity
-- has LIVE keys and no TEST key; otherwise TEST.
ALTER TABLE users ADD COLUMN environment TEXT NOT NULL DEFAULT 'TEST'
    CHECK (environment IN ('TEST', 'LIVE'));
UPDATE users u SET environment = 'LIVE'
WHERE (EXISTS (SELECT 1 FROM wallets w WHERE w.user_internal_id = u.internal_id)
       AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_internal_id = u.internal_id
           AND w.blockchain NOT IN ('ETH', 'AVAX', 'MATIC', 'SOL', 'ARB', 'NEAR', 'EVM',
                                    'UNI', 'BASE', 'OP', 'APTOS', 'ARC', 'MONAD')))
   OR (EXISTS (SELECT 1 FROM api_keys k
               WHERE k.entity_id = u.entity_id AND k.environment = 'LIVE')
       AND NOT EXISTS (SELECT 1 FROM api_keys k
                       WHERE k.entity_id = u.entity_id AND k.environment = 'TEST'));
-- Every insert names the environment; the default existed only to fill the old rows.
ALTER TABLE users ALTER COLUMN environment DROP DEFAULT;
ALTER TABLE users DROP CONSTRAINT users_entity_id_user_id_key;
ALTER TABLE users ADD CONSTRAINT users_entity_id_environment_user_id_key
    UNIQUE (entity_id, environment, user_id);
DROP INDEX users_entity_seq;
CREATE INDEX users_entity_seq ON users (entity_id, environment, seq);

ALTER TABLE subscriptions ADD COLUMN environment TEXT NOT NULL DEFAULT 'TEST'
    CHECK (environment IN ('TEST', 'LIVE'));
UPDATE subscriptions s SET environment = 'LIVE'
WHERE EXISTS (SELECT 1 FROM api_keys k
              WHERE k.entity_id = s.entity_id AND k.environment = 'LIVE')
  AND NOT EXISTS (SELECT 1 FROM api_keys k
                  WHERE k.entity_id = s.entity_id AND k.environment = 'TEST');
ALTER TABLE subscriptions ALTER COLUMN environment DROP DEFAULT;
DROP INDEX subscriptions_entity;
CREATE INDEX subscriptions_entity ON subscriptions (entity_id, environment, created_at);
