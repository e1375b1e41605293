-- Erasure (services/status/erasure.py): `DELETE /v1/users/{user_id}/readings` removes a
-- user's readings from every table; a tombstone per erased reading keeps it erased while
-- the stream may still hold (or still receive) its events. The projection skips events
-- of a tombstoned reading and the status routes never fall back to the bus for one.
-- Only the reading id is kept: no user id, no tenant, nothing of the reading itself.
CREATE TABLE erased_readings (
    reading_id text PRIMARY KEY,
    erased_at  timestamptz NOT NULL DEFAULT now()
);
-- Tombstones older than the stream's age plus a day are removed by the next erasure.
CREATE INDEX erased_readings_erased_at ON erased_readings (erased_at);
-- An erasure deletes a reading's dead letters by its id.
CREATE INDEX dead_letters_reading ON dead_letters (reading_id);
