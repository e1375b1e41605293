-- Events that ended a reading or could not be read at all, kept for inspection:
-- every `reading.failed` (its stage, code and message) and every event the
-- status service itself could not decode (with an excerpt of the raw bytes).

CREATE TABLE dead_letters (
    id          bigserial PRIMARY KEY,
    stream_seq  bigint      NOT NULL UNIQUE,
    subject     text        NOT NULL,
    reading_id  text,
    stage       text        NOT NULL,
    code        text        NOT NULL,
    message     text        NOT NULL,
    raw_excerpt text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_created ON dead_letters (created_at DESC, id DESC);
CREATE INDEX readings_status ON readings (status);
CREATE INDEX readings_created ON readings (created_at);
