-- +goose Up
CREATE TABLE workspaces (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    site_id       TEXT    NOT NULL UNIQUE,
    track_api_key TEXT    NOT NULL,
    app_api_key   TEXT    NOT NULL UNIQUE,
    write_key     TEXT    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
);

CREATE TABLE people (
    pk           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    cio_id       TEXT    NOT NULL,
    ext_id       TEXT,
    email        TEXT,
    email_norm   TEXT,
    anonymous_id TEXT,
    attributes   TEXT    NOT NULL DEFAULT '{}',
    attr_ts      TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- cio_id first: an index that leads with workspace_id alone would tempt the planner, on
-- young statistics, into scanning a whole workspace for lookups by id or email.
CREATE UNIQUE INDEX people_cio_id ON people (cio_id, workspace_id);
CREATE UNIQUE INDEX people_ext_id ON people (workspace_id, ext_id) WHERE ext_id IS NOT NULL;
CREATE UNIQUE INDEX people_email ON people (workspace_id, email_norm) WHERE email_norm IS NOT NULL;
CREATE UNIQUE INDEX people_anonymous_id ON people (workspace_id, anonymous_id) WHERE anonymous_id IS NOT NULL;

CREATE TABLE object_types (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id),
    id            INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    singular_name TEXT    NOT NULL,
    slug          TEXT    NOT NULL,
    singular_slug TEXT    NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 1,
    icon          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX object_types_slug ON object_types (workspace_id, slug);
CREATE UNIQUE INDEX object_types_singular_slug ON object_types (workspace_id, singular_slug);

CREATE TABLE objects (
    pk            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL,
    type_id       INTEGER NOT NULL,
    object_id     TEXT    NOT NULL,
    cio_object_id TEXT    NOT NULL,
    attributes    TEXT    NOT NULL DEFAULT '{}',
    attr_ts       TEXT    NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    FOREIGN KEY (workspace_id, type_id) REFERENCES object_types (workspace_id, id)
);
CREATE UNIQUE INDEX objects_object_id ON objects (workspace_id, type_id, object_id);
CREATE UNIQUE INDEX objects_cio_object_id ON objects (cio_object_id, workspace_id);

CREATE TABLE relationships (
    workspace_id INTEGER NOT NULL,
    person_pk    INTEGER NOT NULL REFERENCES people (pk) ON DELETE CASCADE,
    object_pk    INTEGER NOT NULL REFERENCES objects (pk) ON DELETE CASCADE,
    attributes   TEXT    NOT NULL DEFAULT '{}',
    attr_ts      TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (person_pk, object_pk)
);
CREATE INDEX relationships_object ON relationships (object_pk, person_pk);

CREATE TABLE anonymous_relationships (
    workspace_id INTEGER NOT NULL,
    anonymous_id TEXT    NOT NULL,
    object_pk    INTEGER NOT NULL REFERENCES objects (pk) ON DELETE CASCADE,
    attributes   TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, anonymous_id, object_pk)
);

CREATE TABLE events (
    pk           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    person_pk    INTEGER REFERENCES people (pk) ON DELETE CASCADE,
    anonymous_id TEXT,
    name         TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    dedupe_id    TEXT,
    timestamp    INTEGER NOT NULL,
    data         TEXT,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_dedupe_id ON events (workspace_id, dedupe_id) WHERE dedupe_id IS NOT NULL;
CREATE INDEX events_person ON events (person_pk, name, timestamp);
CREATE INDEX events_anonymous ON events (workspace_id, anonymous_id) WHERE anonymous_id IS NOT NULL;

CREATE TABLE devices (
    person_pk  INTEGER NOT NULL REFERENCES people (pk) ON DELETE CASCADE,
    token      TEXT    NOT NULL,
    platform   TEXT    NOT NULL,
    last_used  INTEGER NOT NULL DEFAULT 0,
    attributes TEXT    NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (person_pk, token)
);

CREATE TABLE suppressions (
    workspace_id INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    suppression  TEXT    NOT NULL, -- the blocks one suppression made share this key
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind, value)
);

CREATE TABLE changes (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id   INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    timestamp      INTEGER NOT NULL,
    person_pk      INTEGER,
    customer       TEXT,
    object_type_id INTEGER,
    object_id      TEXT,
    cio_object_id  TEXT,
    name           TEXT,
    quiet          INTEGER NOT NULL DEFAULT 0,
    data           TEXT
);
CREATE INDEX changes_person ON changes (person_pk, seq) WHERE person_pk IS NOT NULL;
CREATE INDEX changes_object ON changes (workspace_id, object_type_id, object_id, seq) WHERE object_type_id IS NOT NULL;

CREATE TABLE imports (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id   INTEGER NOT NULL REFERENCES workspaces (id),
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    type           TEXT    NOT NULL,
    identifier     TEXT    NOT NULL DEFAULT '',
    object_type_id INTEGER NOT NULL DEFAULT 0,
    data_to_process TEXT   NOT NULL,
    state          TEXT    NOT NULL,
    rows_to_import INTEGER NOT NULL DEFAULT 0,
    rows_imported  INTEGER NOT NULL DEFAULT 0,
    rows_failed    INTEGER NOT NULL DEFAULT 0,
    created        INTEGER NOT NULL DEFAULT 0,
    updated        INTEGER NOT NULL DEFAULT 0,
    unchanged      INTEGER NOT NULL DEFAULT 0,
    skipped        INTEGER NOT NULL DEFAULT 0,
    error          TEXT    NOT NULL DEFAULT '',
    report         TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE syncs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id     INTEGER NOT NULL REFERENCES workspaces (id),
    name             TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    query            TEXT    NOT NULL DEFAULT '',
    call             TEXT    NOT NULL,
    object_type_id   INTEGER NOT NULL DEFAULT 0,
    mapping          TEXT    NOT NULL DEFAULT '{}',
    interval_seconds INTEGER NOT NULL DEFAULT 0,
    enabled          INTEGER NOT NULL DEFAULT 1,
    last_sync_time   INTEGER NOT NULL DEFAULT 0,
    last_run_at      INTEGER NOT NULL DEFAULT 0,
    running_since    INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX syncs_name ON syncs (workspace_id, name);

CREATE TABLE sync_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_id      INTEGER NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    state        TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL DEFAULT 0,
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    rows_read    INTEGER NOT NULL DEFAULT 0,
    rows_changed INTEGER NOT NULL DEFAULT 0,
    rows_failed  INTEGER NOT NULL DEFAULT 0,
    errors       TEXT    NOT NULL DEFAULT '[]',
    error        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_sync ON sync_runs (sync_id, id);
