-- The projection of the reading pipeline. Rows are derived from events only:
-- replaying the stream into an empty database rebuilds them.

CREATE TABLE readings (
    id              text PRIMARY KEY,
    user_id         text,
    agent           text,
    language        text,
    status          text        NOT NULL,
    -- (current_version, status_rank) only ever grows: the projection is monotonic.
    status_rank     smallint    NOT NULL,
    current_version integer     NOT NULL DEFAULT 1,
    birth           jsonb,
    error           jsonb,
    requested_at    timestamptz,
    chart_at        timestamptz,
    started_at      timestamptz,
    completed_at    timestamptz,
    failed_at       timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_seq        bigint      NOT NULL DEFAULT 0
);
CREATE INDEX readings_user_created ON readings (user_id, created_at DESC, id DESC);

CREATE TABLE charts (
    reading_id  text PRIMARY KEY,
    chart       jsonb            NOT NULL,
    duration_s  double precision NOT NULL,
    computed_at timestamptz      NOT NULL
);

-- A regenerated reading is a new version; exactly one version is current.
CREATE TABLE reading_versions (
    reading_id       text        NOT NULL,
    version          integer     NOT NULL,
    is_current       boolean     NOT NULL DEFAULT true,
    text             text        NOT NULL,
    provider         text        NOT NULL,
    model            text        NOT NULL,
    composed_offline boolean     NOT NULL,
    agent            text        NOT NULL,
    language         text        NOT NULL,
    prompt_version   text        NOT NULL,
    usage            jsonb       NOT NULL,
    latency_s        double precision NOT NULL,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (reading_id, version)
);
CREATE UNIQUE INDEX reading_versions_one_current
    ON reading_versions (reading_id) WHERE is_current;

-- Every event applied, by its deterministic id: a redelivery changes nothing.
CREATE TABLE inbox (
    event_id     text PRIMARY KEY,
    stream_seq   bigint      NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- The history an SSE client gets before the live events; `seq` is the
-- JetStream stream sequence, used as the SSE event id.
CREATE TABLE reading_events (
    seq        bigint PRIMARY KEY,
    reading_id text        NOT NULL,
    type       text        NOT NULL,
    time       timestamptz NOT NULL,
    data       jsonb       NOT NULL
);
CREATE INDEX reading_events_by_reading ON reading_events (reading_id, seq);
