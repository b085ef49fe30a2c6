"""Background jobs.

On SQLite (one host, one writer) the server runs jobs itself on a worker thread. On
PostgreSQL jobs go to procrastinate's queue (its tables are created by ``shieldwall db
upgrade``) and ``shieldwall worker`` processes, on any number of hosts, take them; the API
processes only defer. Adding a job is a method on ``Jobs`` (both classes) and, for the queue,
a task in ``queue_app``.

Scheduled work (ending expired exceptions, sending SLA and expiry reminders, on the cron
schedule ``SHIELDWALL_REMINDERS_CRON``) runs on the same two paths: a scheduler thread that
hands each run to the SQLite job thread, and a procrastinate periodic task that exactly one of
the PostgreSQL workers runs per tick (procrastinate locks each tick's defer).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from croniter import croniter
from sqlalchemy.engine import make_url

from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.errors import InputError
from shieldwall.ingest.queued import run_queued_import, unfinished
from shieldwall.risk.reminding import run_reminders

if TYPE_CHECKING:
    import procrastinate

log = logging.getLogger(__name__)

IMPORT_TASK = "shieldwall.import"
QUEUE = "imports"
REMINDERS_TASK = "shieldwall.reminders"
SCHEDULED_QUEUE = "scheduled"


class Jobs(Protocol):
    def defer_import(self, uid: str) -> None: ...

    def close(self) -> None: ...


class ThreadJobs:
    """SQLite: one worker thread in the server process (SQLite has one writer anyway).
    Imports still queued, or cut off by a stop, are taken up again when it starts."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shieldwall-job")
        self._stop = threading.Event()
        self._scheduler: threading.Thread | None = None
        with db.read() as session:
            for uid in unfinished(session):
                self.defer_import(uid)
        if settings.reminders_cron:
            self._scheduler = threading.Thread(
                target=self._schedule,
                args=(settings.reminders_cron,),
                name="shieldwall-schedule",
                daemon=True,
            )
            self._scheduler.start()

    def defer_import(self, uid: str) -> None:
        self._executor.submit(run_queued_import, self._db, self._settings, uid)

    def _schedule(self, cron: str) -> None:
        """Hand a reminder run to the job thread at each tick of ``cron`` (local time, as
        cron reads it) until ``close``."""
        ticks = croniter(cron, time.time())
        while not self._stop.wait(max(ticks.get_next(float) - time.time(), 0)):
            self._executor.submit(scheduled_reminders, self._db, self._settings)

    def close(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.join()
        self._executor.shutdown(wait=True)


class QueueJobs:
    """PostgreSQL: defer into procrastinate's queue."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._app = queue_app(db, settings).open()

    def defer_import(self, uid: str) -> None:
        self._app.configure_task(IMPORT_TASK, queue=QUEUE).defer(import_uid=uid)

    def close(self) -> None:
        self._app.close()


def jobs_for(db: Database, settings: Settings) -> Jobs:
    if db.dialect == "postgresql":
        return QueueJobs(db, settings)
    return ThreadJobs(db, settings)


def queue_app(db: Database, settings: Settings) -> procrastinate.App:
    """A procrastinate app on the database's PostgreSQL server, with Shieldwall's tasks."""
    import procrastinate  # imported here: only PostgreSQL installations queue jobs

    if db.dialect != "postgresql":
        raise InputError(
            "background workers need PostgreSQL (SHIELDWALL_DATABASE_URL); "
            "on SQLite `shieldwall serve` runs jobs itself"
        )
    url = make_url(db.url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))

    @app.task(name=IMPORT_TASK, queue=QUEUE, pass_context=False)
    def import_job(import_uid: str) -> None:
        run_queued_import(db, settings, import_uid)

    if settings.reminders_cron:

        @app.periodic(cron=settings.reminders_cron, periodic_id="reminders")
        @app.task(name=REMINDERS_TASK, queue=SCHEDULED_QUEUE, pass_context=False)
        def reminders_job(timestamp: int) -> None:
            scheduled_reminders(db, settings)

    return app


def scheduled_reminders(db: Database, settings: Settings) -> None:
    """A scheduled reminder run; it logs what it did, and a failure is logged rather than
    lost (nobody waits on this job's result). Without notifiers it only ends exceptions:
    reminders nobody can receive would otherwise be due again at every tick."""
    try:
        run = run_reminders(db, settings, dry_run=not settings.notifiers)
    except Exception:
        log.exception("scheduled reminder run failed")
        return
    for uid in run.expired:
        log.info("exception %s expired", uid)
    for failure in run.failures:
        log.warning("reminder not sent: %s", failure)
    if run.sent:
        log.info("%d reminder(s) sent", len(run.due))


def run_worker(db: Database, settings: Settings, concurrency: int, *, wait: bool = True) -> None:
    """Take jobs from the queue until stopped (or, with ``wait=False``, until it is empty)."""
    app = queue_app(db, settings)
    app.run_worker(queues=[QUEUE, SCHEDULED_QUEUE], concurrency=concurrency, wait=wait)
