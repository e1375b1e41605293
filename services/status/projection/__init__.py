"""The status projection: the consumer handler, the max-deliveries watcher, the stream's fill."""
