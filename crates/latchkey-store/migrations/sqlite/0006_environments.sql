-- TEST and LIVE are separate worlds: a user and a webhook subscription belong to the
-- environment of the API key that created them; wallets and challenges are reached only
-- through their user. The same userId may exist once in each environment, so the users'
-- UNIQUE constraint changes, which SQLite can do only by rebuilding the table.
--
-- Existing rows (nothing recorded which key created them): a user is LIVE when it holds
-- wallets and all of them are on mainnets (only a LIVE key could create those), or when its
-- entity has LIVE keys and no TEST key; otherwise TEST. A subscription is LIVE when its entity
-- has LIVE keys and no TEST key; otherwise TEST.
--
-- The rebuild runs inside the migrator's transaction, where `PRAGMA foreign_keys` cannot be
-- switched off: foreign keys are deferred instead. Dropping `users` leaves every challenge and
-- wallet pointing at a missing user (counted); re-inserting the same users into the new table
-- resolves exactly those, and the commit fails if anything is left dangling.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE users_0006 AS
SELECT u.*,
    CASE
        WHEN (EXISTS (SELECT 1 FROM wallets w WHERE w.user_internal_id = u.internal_id)
              AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_internal_id = u.internal_id
                  AND w.blockchain NOT IN ('ETH', 'AVAX', 'MATIC', 'SOL', 'ARB', 'NEAR', 'EVM',
                                           'UNI', 'BASE', 'OP', 'APTOS', 'ARC', 'MONAD')))
          OR (EXISTS (SELECT 1 FROM api_keys k
                      WHERE k.entity_id = u.entity_id AND k.environment = 'LIVE')
              AND NOT EXISTS (SELECT 1 FROM api_keys k
                              WHERE k.entity_id = u.entity_id AND k.environment = 'TEST'))
        THEN 'LIVE' ELSE 'TEST'
    END AS environment_0006
FROM users u;

DROP TABLE users;

CREATE TABLE users (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id        TEXT NOT NULL REFERENCES entities (id),
    environment      TEXT NOT NULL CHECK (environment IN ('TEST', 'LIVE')),
    internal_id      TEXT NOT NULL UNIQUE,
    user_id          TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0,
    pin_salt         BLOB,
    pin_params       TEXT,
    pin_sealed       BLOB,
    pin_version      INTEGER NOT NULL DEFAULT 0,
    rec_salt         BLOB,
    rec_params       TEXT,
    rec_sealed       BLOB,
    questions        TEXT,
    pin_failed       INTEGER NOT NULL DEFAULT 0,
    pin_locked_at    INTEGER,
    pin_lock_expiry  INTEGER,
    pin_override_at  INTEGER,
    sq_failed        INTEGER NOT NULL DEFAULT 0,
    sq_locked_at     INTEGER,
    sq_lock_expiry   INTEGER,
    sq_override_at   INTEGER,
    pin_lock_owner   TEXT,
    sq_lock_owner    TEXT,
    UNIQUE (entity_id, environment, user_id)
);

INSERT INTO users (seq, entity_id, environment, internal_id, user_id, created_at, disabled,
    pin_salt, pin_params, pin_sealed, pin_version, rec_salt, rec_params, rec_sealed, questions,
    pin_failed, pin_locked_at, pin_lock_expiry, pin_override_at,
    sq_failed, sq_locked_at, sq_lock_expiry, sq_override_at, pin_lock_owner, sq_lock_owner)
SELECT seq, entity_id, environment_0006, internal_id, user_id, created_at, disabled,
    pin_salt, pin_params, pin_sealed, pin_version, rec_salt, rec_params, rec_sealed, questions,
    pin_failed, pin_locked_at, pin_lock_expiry, pin_override_at,
    sq_failed, sq_locked_at, sq_lock_expiry, sq_override_at, pin_lock_owner, sq_lock_owner
FROM users_0006;

DROP TABLE users_0006;

CREATE INDEX users_entity_seq ON users (entity_id, environment, seq);

ALTER TABLE subscriptions ADD COLUMN environment TEXT NOT NULL DEFAULT 'TEST'
    CHECK (environment IN ('TEST', 'LIVE'));
UPDATE subscriptions SET environment = 'LIVE'
WHERE EXISTS (SELECT 1 FROM api_keys k
              WHERE k.entity_id = subscriptions.entity_id AND k.environment = 'LIVE')
  AND NOT EXISTS (SELECT 1 FROM api_keys k
                  WHERE k.entity_id = subscriptions.entity_id AND k.environment = 'TEST');
DROP INDEX subscriptions_entity;
CREATE INDEX subscriptions_entity ON subscriptions (entity_id, environment, created_at);
