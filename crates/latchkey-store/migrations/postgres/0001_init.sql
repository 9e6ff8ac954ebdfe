-- latchkey schema, PostgreSQL. Times are Unix milliseconds; ids are UUID text.
CREATE TABLE entities (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    is_default  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX entities_one_default ON entities (is_default) WHERE is_default = 1;

CREATE TABLE api_keys (
    key_id       TEXT PRIMARY KEY,
    entity_id    TEXT NOT NULL REFERENCES entities (id),
    name         TEXT NOT NULL,
    environment  TEXT NOT NULL CHECK (environment IN ('TEST', 'LIVE')),
    secret_hash  BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE users (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_id        TEXT NOT NULL REFERENCES entities (id),
    internal_id      TEXT NOT NULL UNIQUE,
    user_id          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    disabled         BIGINT NOT NULL DEFAULT 0,
    pin_salt         BYTEA,
    pin_params       TEXT,
    pin_sealed       BYTEA,
    pin_version      BIGINT NOT NULL DEFAULT 0,
    rec_salt         BYTEA,
    rec_params       TEXT,
    rec_sealed       BYTEA,
    questions        TEXT,
    pin_failed       BIGINT NOT NULL DEFAULT 0,
    pin_locked_at    BIGINT,
    pin_lock_expiry  BIGINT,
    pin_override_at  BIGINT,
    sq_failed        BIGINT NOT NULL DEFAULT 0,
    sq_locked_at     BIGINT,
    sq_lock_expiry   BIGINT,
    sq_override_at   BIGINT,
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
    error_code        BIGINT,
    error_message     TEXT,
    payload           TEXT NOT NULL DEFAULT '{}',
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX challenges_user ON challenges (entity_id, user_internal_id, created_at);

CREATE TABLE idempotency (
    entity_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    result_id     TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (entity_id, key)
);
CREATE INDEX idempotency_created ON idempotency (created_at);

CREATE TABLE audit_log (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_id         TEXT NOT NULL,
    user_internal_id  TEXT,
    action            TEXT NOT NULL,
    detail            TEXT NOT NULL,
    at                BIGINT NOT NULL
);
CREATE INDEX audit_log_user ON audit_log (entity_id, user_internal_id, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
