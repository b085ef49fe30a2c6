"""The ASGI application: ``create_app()`` wires every domain's API router under ``/api/v1``,
the web pages, the operations endpoints and the background jobs.

Adding an API to a domain is writing its ``api.py`` with an ``APIRouter`` and adding it to
``ROUTERS`` here; adding pages, see ``shieldwall.web.pages``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from shieldwall import __version__
from shieldwall.config import Settings, get_settings
from shieldwall.coverage.api import router as coverage_router
from shieldwall.db.engine import Database
from shieldwall.db.migrate import current_revision, head_revision
from shieldwall.exceptions.api import router as exceptions_router
from shieldwall.findings.api import router as findings_router
from shieldwall.findings.dashboard import open_by_severity
from shieldwall.findings.vocabulary import Severity
from shieldwall.gate.api import router as gate_router
from shieldwall.ingest.api import router as imports_router
from shieldwall.ingest.models import ReportImport
from shieldwall.ingest.queued import QUEUED, RUNNING
from shieldwall.intel.api import router as intel_router
from shieldwall.inventory.api import router as inventory_router
from shieldwall.jobs import Jobs, jobs_for
from shieldwall.threatmodel import pages as _threat_model_pages  # noqa: F401 (its routes)
from shieldwall.threatmodel.api import router as threatmodel_router
from shieldwall.web import errors, pages
from shieldwall.web.middleware import Guard, RequestMetrics

ROUTERS: list[APIRouter] = [
    inventory_router,
    imports_router,
    findings_router,
    exceptions_router,
    intel_router,
    coverage_router,
    gate_router,
    threatmodel_router,
]


class StoreMetrics(Collector):
    """Figures read from the database at each scrape: the job queue and open findings."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Any:
        queue = GaugeMetricFamily(
            "shieldwall_jobs", "Background imports waiting or running.", labels=["state"]
        )
        open_findings = GaugeMetricFamily(
            "shieldwall_open_findings", "Open (and reopened) findings.", labels=["severity"]
        )
        with self.db.read() as session:
            states = dict(
                session.execute(
                    select(ReportImport.state, func.count())
                    .where(ReportImport.state.in_((QUEUED, RUNNING)))
                    .group_by(ReportImport.state)
                ).all()
            )
            severities = open_by_severity(session)
        for state in (QUEUED, RUNNING):
            queue.add_metric([state], states.get(state, 0))
        for severity in Severity:
            open_findings.add_metric([severity.value], severities[severity.value])
        yield queue
        yield open_findings


def create_app(db: Database, settings: Settings | None = None, jobs: Jobs | None = None) -> FastAPI:
    settings = settings or get_settings()
    runner = jobs or jobs_for(db, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        runner.close()

    app = FastAPI(
        title="Shieldwall",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI loads its code from a CDN and inline script: not here
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.jobs = runner
    registry = CollectorRegistry()
    registry.register(StoreMetrics(db))
    app.add_middleware(Guard, metrics=RequestMetrics(registry), max_upload=settings.max_upload_size)
    errors.install(app, pages.error_page)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.HERE / "static"), name="static")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], response_model=None)
    def readyz() -> JSONResponse | dict[str, str]:
        """Readiness: the database answers and its schema is current."""
        try:
            current = current_revision(db)  # a query: it also proves the database answers
        except Exception:  # whatever the failure, the database is not there for requests
            return errors.error_response(503, "the database is not reachable")
        head = head_revision()
        if current != head:
            return errors.error_response(503, f"the database schema is at {current}, not {head}")
        return {"status": "ready"}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics() -> Response:
        """Prometheus text format: requests, the job queue, open findings by severity."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
