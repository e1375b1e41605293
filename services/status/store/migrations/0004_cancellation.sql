-- A client may cancel a reading (`reading.cancelled`): status `cancelled`, terminal
-- for its version, with the time of the cancel as a stage timestamp.
ALTER TABLE readings ADD COLUMN cancelled_at timestamptz;
