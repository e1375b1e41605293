"""The status HTTP API: readings, live SSE, commands, erasure, operator endpoints, access."""
