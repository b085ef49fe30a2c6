"""The server: the REST API, the web UI, and what they share (errors, auth, paging)."""
