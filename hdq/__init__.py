"""`hdq`: a terminal client of the public API."""
