"""Status's data: the pool, every query, migrations, retention, the outage classification."""
