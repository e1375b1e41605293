"""The bus: connect, topology, publish with dedup, and the consume loop."""
