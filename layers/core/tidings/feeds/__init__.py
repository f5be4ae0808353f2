"""Feed ingestion: fetch, parse, identity, topics."""
