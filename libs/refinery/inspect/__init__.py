"""``refinery inspect``: propose the ingest source for a file, from a bounded sample of it."""
