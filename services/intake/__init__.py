"""Intake: accepts birth data over HTTP and publishes `reading.requested`."""
