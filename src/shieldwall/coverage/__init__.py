"""Security-check coverage: which of SAST, SCA, secrets and IaC scanning report on each
service, and when they last did, read from the scan streams that imports keep current."""
