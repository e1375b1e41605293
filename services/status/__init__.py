"""Status: projects every event into PostgreSQL; serves polling and live SSE."""
