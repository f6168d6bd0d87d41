-- +goose Up
CREATE TABLE campaigns (
    id           BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces (id),
    name         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    version      BIGINT  NOT NULL DEFAULT 1,
    trigger_type TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    started_at   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_workspace ON campaigns (workspace_id, id);

-- Every version of a campaign's definition: a journey runs the version it started on.
CREATE TABLE campaign_versions (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    definition  JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, version)
);

-- One person's way through a campaign. position is the path of the step to run next
-- (herald.Step), next_at when; a runner claims due journeys by lease.
CREATE TABLE journeys (
    id             BIGSERIAL PRIMARY KEY,
    workspace_id   BIGINT  NOT NULL,
    campaign_id    BIGINT  NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    version        BIGINT  NOT NULL,
    person_pk      BIGINT  NOT NULL,
    object_type_id BIGINT,
    object_id      TEXT,
    trigger_data   JSONB,
    dedupe_key     TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    position       TEXT    NOT NULL,
    visits         BIGINT  NOT NULL DEFAULT 0,
    attributes     JSONB NOT NULL DEFAULT '{}',
    next_at        BIGINT  NOT NULL,
    deadline       BIGINT  NOT NULL DEFAULT 0,
    owner          TEXT    NOT NULL DEFAULT '',
    claimed_until  BIGINT  NOT NULL DEFAULT 0,
    exit_reason    TEXT    NOT NULL DEFAULT '',
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
-- Frequency: a person enters a campaign once, once per object, or once per triggering change.
CREATE UNIQUE INDEX journeys_dedupe ON journeys (campaign_id, dedupe_key);
CREATE INDEX journeys_due ON journeys (next_at) WHERE state = 'active';
CREATE INDEX journeys_person ON journeys (person_pk, campaign_id);

-- Per-step counts: entered, completed, exited, sent, failed.
CREATE TABLE journey_metrics (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    step_id     TEXT   NOT NULL,
    metric      TEXT   NOT NULL,
    count       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, step_id, metric)
);
