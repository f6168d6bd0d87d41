-- +goose Up
CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER  NOT NULL REFERENCES workspaces (id),
    name         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    version      INTEGER  NOT NULL DEFAULT 1,
    trigger_type TEXT    NOT NULL,
    created_at   INTEGER  NOT NULL,
    updated_at   INTEGER  NOT NULL,
    started_at   INTEGER  NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_workspace ON campaigns (workspace_id, id);

-- Every version of a campaign's definition: a journey runs the version it started on.
CREATE TABLE campaign_versions (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, version)
);

-- One person's way through a campaign. position is the path of the step to run next
-- (herald.Step), next_at when; a runner claims due journeys by lease.
CREATE TABLE journeys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id   INTEGER  NOT NULL,
    campaign_id    INTEGER  NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    version        INTEGER  NOT NULL,
    person_pk      INTEGER  NOT NULL,
    object_type_id INTEGER,
    object_id      TEXT,
    trigger_data   TEXT,
    dedupe_key     TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    position       TEXT    NOT NULL,
    visits         INTEGER  NOT NULL DEFAULT 0,
    attributes     TEXT NOT NULL DEFAULT '{}',
    next_at        INTEGER  NOT NULL,
    deadline       INTEGER  NOT NULL DEFAULT 0,
    owner          TEXT    NOT NULL DEFAULT '',
    claimed_until  INTEGER  NOT NULL DEFAULT 0,
    exit_reason    TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER  NOT NULL,
    updated_at     INTEGER  NOT NULL
);
-- Frequency: a person enters a campaign once, once per object, or once per triggering change.
CREATE UNIQUE INDEX journeys_dedupe ON journeys (campaign_id, dedupe_key);
CREATE INDEX journeys_due ON journeys (next_at) WHERE state = 'active';
CREATE INDEX journeys_person ON journeys (person_pk, campaign_id);

-- Per-step counts: entered, completed, exited, sent, failed.
CREATE TABLE journey_metrics (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    step_id     TEXT   NOT NULL,
    metric      TEXT   NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, step_id, metric)
);
