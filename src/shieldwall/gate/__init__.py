"""The policy gate: reports in, pass / blocked out, with why, and a record of each run."""
