"""The embedded default: a NATS server and a PostgreSQL server run from their wheels.

Used by `make run` (no NATS_URL / DATABASE_URL set) and by the test fixtures.
Each runs as a child process in the foreground, so it can be stopped,
killed and restarted like any other process.
"""
