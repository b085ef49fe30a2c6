"""One measured run in a child process: prints seconds, CPU, peak RSS and the import summary
as JSON.

Run by ``benchmarks.run``; a separate process per measurement so that each peak RSS is that
run's own.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.ingest.service import ImportRequest, import_report


def main() -> None:
    what, target = sys.argv[1], Path(sys.argv[2])
    started = time.perf_counter()
    cpu_started = time.process_time()
    summary: dict[str, int] = {}
    if what == "json.load":
        with target.open("rb") as handle:
            json.load(handle)
    else:
        url, service = sys.argv[3], sys.argv[4]
        db = Database(url)
        result = import_report(
            db, ImportRequest(path=target, service=service, actor="bench"), Settings()
        )
        summary = {**result.counts(), "components": result.components}
        db.dispose()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    # A large report is parsed by a child process while this one stores: both count (the
    # sum of the two peaks, an upper bound), and so does the child's CPU time.
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + child.ru_maxrss) / 1024
    cpu += child.ru_utime + child.ru_stime
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss_mb": peak_mb, "summary": summary}))


if __name__ == "__main__":
    main()
