"""Reader: turns a chart into a written reading (OpenAI-compatible LLM or offline composer)."""
