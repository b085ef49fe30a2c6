"""`shieldwall scan`: secrets, dependencies from lockfiles, external scanners, SARIF out;
`shieldwall sbom` and `shieldwall posture`."""
