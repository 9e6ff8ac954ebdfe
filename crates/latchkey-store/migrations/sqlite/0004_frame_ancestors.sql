-- Origins each entity allows to embed the hosted page (CSP frame-ancestors).
CREATE TABLE entity_frame_ancestors (
    entity_id  TEXT NOT NULL REFERENCES entities (id),
    origin     TEXT NOT NULL,
    PRIMARY KEY (entity_id, origin)
);
