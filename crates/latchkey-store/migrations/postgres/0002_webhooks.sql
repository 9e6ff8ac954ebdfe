-- Webhook subscriptions, signing keys and the delivery outbox.
CREATE TABLE subscriptions (
    id                  TEXT PRIMARY KEY,
    entity_id           TEXT NOT NULL REFERENCES entities (id),
    name                TEXT NOT NULL,
    endpoint            TEXT NOT NULL,
    enabled             BIGINT NOT NULL DEFAULT 1,
    notification_types  TEXT NOT NULL DEFAULT '[]',
    failing_since       BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX subscriptions_entity ON subscriptions (entity_id, created_at);

CREATE TABLE webhook_keys (
    id                  TEXT PRIMARY KEY,
    entity_id           TEXT NOT NULL REFERENCES entities (id),
    public_key_der      BYTEA NOT NULL,
    sealed_private_key  BYTEA NOT NULL,
    active              BIGINT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX webhook_keys_one_active ON webhook_keys (entity_id) WHERE active = 1;

CREATE TABLE webhook_deliveries (
    id                 TEXT PRIMARY KEY,
    entity_id          TEXT NOT NULL,
    subscription_id    TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    notification_type  TEXT NOT NULL,
    payload            TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    status             TEXT NOT NULL,
    attempts           BIGINT NOT NULL DEFAULT 0,
    next_attempt_at    BIGINT NOT NULL,
    lease_until        BIGINT,
    lease_token        TEXT,
    last_status_code   BIGINT,
    last_error         TEXT,
    delivered_at       BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_entity ON webhook_deliveries (entity_id, created_at);
