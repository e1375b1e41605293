"""Chart: computes the Human Design chart of `reading.requested` with skyfield (DE440)."""
