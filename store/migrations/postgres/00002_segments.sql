-- +goose Up
CREATE TABLE segments (
    id            BIGSERIAL PRIMARY KEY,
    workspace_id  BIGINT  NOT NULL REFERENCES workspaces (id),
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    type          TEXT    NOT NULL,
    conditions    JSONB,
    state         TEXT    NOT NULL,
    progress      INTEGER NOT NULL DEFAULT 0,
    version       BIGINT  NOT NULL DEFAULT 1,
    built_version BIGINT  NOT NULL DEFAULT 0,
    refreshed_at  BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX segments_workspace ON segments (workspace_id, id);

-- No foreign key to people: when a person is deleted the segment engine removes their
-- memberships itself, so that each removal is recorded as segment_exited.
CREATE TABLE segment_members (
    segment_id BIGINT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    person_pk  BIGINT NOT NULL,
    entered_at BIGINT NOT NULL,
    PRIMARY KEY (segment_id, person_pk)
);
CREATE INDEX segment_members_person ON segment_members (person_pk, segment_id);

-- Where each engine that consumes the change feed has got to, and which process may run it.
CREATE TABLE engine_cursors (
    name        TEXT   PRIMARY KEY,
    seq         BIGINT NOT NULL DEFAULT 0,
    owner       TEXT   NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX events_name ON events (workspace_id, name, timestamp) WHERE person_pk IS NOT NULL;
CREATE INDEX objects_type ON objects (workspace_id, type_id, pk);

-- herald_num is the number a text is written as, or NULL: the grammar of herald.ParseNumber
-- (blanks, sign, at most 200 digits and 200 decimals, an exponent of at most two digits) and
-- its double, so that segments compare numbers sent as strings as numbers, exactly as the
-- in-memory evaluator does.
-- +goose StatementBegin
CREATE FUNCTION herald_num(t text) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN t ~ '^[ \t\n\r\f\v]*[-+]?([0-9]{1,200}(\.[0-9]{0,200})?|\.[0-9]{1,200})([eE][-+]?[0-9]{1,2})?[ \t\n\r\f\v]*$'
                THEN btrim(t, E' \t\n\r\f\v')::double precision END
$$;
-- +goose StatementEnd
