-- +goose Up
-- One row per message sent (or meant to be sent) to one person on one channel. content is the
-- rendered message, kept while the delivery is pending and afterwards only when retain is set
-- (until the retention period ends). A queued delivery is due at next_attempt_at and claimed
-- by one sender at a time (lease_until), so that it is never sent twice.
CREATE TABLE deliveries (
    id              TEXT    PRIMARY KEY,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces (id),
    person_pk       INTEGER NOT NULL,
    channel         TEXT    NOT NULL,
    campaign_id     INTEGER,
    action_id       INTEGER,
    template_id     INTEGER,
    transactional   INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    recipient       TEXT    NOT NULL DEFAULT '',
    subject         TEXT    NOT NULL DEFAULT '',
    content         TEXT,
    retain          INTEGER NOT NULL DEFAULT 1,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_person ON deliveries (person_pk, created_at);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('queued', 'attempted');
CREATE INDEX deliveries_retained ON deliveries (created_at) WHERE content IS NOT NULL;

CREATE TABLE delivery_events (
    pk          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT    NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    metric      TEXT    NOT NULL,
    timestamp   INTEGER NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    data        TEXT
);
CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id, pk);

-- In-app messages wait here for their reader.
CREATE TABLE inbox_messages (
    delivery_id  TEXT    PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL,
    person_pk    INTEGER NOT NULL,
    display_type TEXT    NOT NULL DEFAULT 'modal',
    title        TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL DEFAULT '',
    link         TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL DEFAULT 'queued',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX inbox_messages_person ON inbox_messages (person_pk, created_at);

-- Stored messages, addressed by transactional sends (transactional_message_id) and campaigns.
CREATE TABLE message_templates (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id         INTEGER NOT NULL REFERENCES workspaces (id),
    name                 TEXT    NOT NULL,
    description          TEXT    NOT NULL DEFAULT '',
    channel              TEXT    NOT NULL,
    fields               TEXT    NOT NULL DEFAULT '{}',
    send_to_unsubscribed INTEGER NOT NULL DEFAULT 1,
    tracked              INTEGER NOT NULL DEFAULT 1,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE UNIQUE INDEX message_templates_name ON message_templates (workspace_id, name);

CREATE TABLE snippets (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    name         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

-- Per-workspace channel settings (a JSON document per channel) over the server's defaults.
CREATE TABLE channel_settings (
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    channel      TEXT    NOT NULL,
    settings     TEXT    NOT NULL DEFAULT '{}',
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, channel)
);

-- Templates list a person's objects of one type newest relationship first.
CREATE INDEX relationships_person_created ON relationships (person_pk, created_at);
