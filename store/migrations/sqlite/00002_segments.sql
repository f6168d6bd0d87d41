-- +goose Up
CREATE TABLE segments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id),
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    type          TEXT    NOT NULL,
    conditions    TEXT,
    state         TEXT    NOT NULL,
    progress      INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 1,
    built_version INTEGER NOT NULL DEFAULT 0,
    refreshed_at  INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX segments_workspace ON segments (workspace_id, id);

-- No foreign key to people: when a person is deleted the segment engine removes their
-- memberships itself, so that each removal is recorded as segment_exited.
CREATE TABLE segment_members (
    segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    person_pk  INTEGER NOT NULL,
    entered_at INTEGER NOT NULL,
    PRIMARY KEY (segment_id, person_pk)
);
CREATE INDEX segment_members_person ON segment_members (person_pk, segment_id);

-- Where each engine that consumes the change feed has got to, and which process may run it.
CREATE TABLE engine_cursors (
    name        TEXT    PRIMARY KEY,
    seq         INTEGER NOT NULL DEFAULT 0,
    owner       TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0
);

-- Full builds of event conditions read events by name.
CREATE INDEX events_name ON events (workspace_id, name, timestamp) WHERE person_pk IS NOT NULL;
-- Objects-first evaluation reads a type's objects.
CREATE INDEX objects_type ON objects (workspace_id, type_id, pk);
