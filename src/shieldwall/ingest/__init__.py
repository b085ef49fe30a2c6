"""Reading scanner reports into findings: formats, detection, and the scan-stream lifecycle."""
