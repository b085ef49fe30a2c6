"""The append-only, hash-chained audit log every mutation writes to."""
