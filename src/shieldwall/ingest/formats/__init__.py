"""One module per report format; each defines ``FORMAT`` (see ``shieldwall.ingest.registry``)."""
