-- Retention (services/status/retention.py): the sweep finds expired rows by their
-- time, a batch at a time. Readings, charts and reading versions never expire.
-- IF NOT EXISTS: on a big database an operator may build them CONCURRENTLY by hand
-- first (docs/operations.md, "Retention"); this then does nothing.
CREATE INDEX IF NOT EXISTS inbox_processed ON inbox (processed_at);
CREATE INDEX IF NOT EXISTS reading_events_time ON reading_events (time);
-- dead_letters: dead_letters_created (0002) serves already.
