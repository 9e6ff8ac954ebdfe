-- latchkey schema, SQLite. Times are Unix milliseconds; ids are UUID text.
CREATE TABLE entities (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX entities_one_default ON entities (is_default) WHERE is_default = 1;

CREATE TABLE api_keys (
    key_id       TEXT PRIMARY KEY,
    entity_id    TEXT NOT NULL REFERENCES entities (id),
    name         TEXT NOT NULL,
    environment  TEXT NOT NULL CHECK (environment IN ('TEST', 'LIVE')),
    secret_hash  BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE users (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id        TEXT NOT NULL REFERENCES entities (id),
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
    UNIQUE (entity_id, user_id)
);
CREATE INDEX users_entity_seq ON users (entity_id, seq);

CREATE TABLE challenges (
    id                TEXT PRIMARY KEY,
    entity_id         TEXT NOT NULL REFERENCES entities (id),
    user_internal_id  TEXT NOT NULL REFERENCES users (internal_id),
    kind              TEXT NOT NULL,
    status            TEXT NOT NULL,
    correlation_ids   TEXT NOT NULL DEFAULT '[]',
    error_code        INTEGER,
    error_message     TEXT,
    payload           TEXT NOT NULL DEFAULT '{}',
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX challenges_user ON challenges (entity_id, user_internal_id, created_at);

CREATE TABLE idempotency (
    entity_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BLOB NOT NULL,
    result_id     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (entity_id, key)
);
CREATE INDEX idempotency_created ON idempotency (created_at);

CREATE TABLE audit_log (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id         TEXT NOT NULL,
    user_internal_id  TEXT,
    action            TEXT NOT NULL,
    detail            TEXT NOT NULL,
    at                INTEGER NOT NULL
);
CREATE INDEX audit_log_user ON audit_log (entity_id, user_internal_id, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
