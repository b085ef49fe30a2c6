"""The ASGI application: ``create_app()`` wires every domain's router under ``/api/v1``.

Adding an API to a domain is writing its ``api.py`` with an ``APIRouter`` and adding it to
``ROUTERS`` here.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from shieldwall import __version__
from shieldwall.db.engine import Database
from shieldwall.db.migrate import current_revision, head_revision
from shieldwall.inventory.api import router as inventory_router
from shieldwall.web import errors

ROUTERS: list[APIRouter] = [inventory_router]


def create_app(db: Database) -> FastAPI:
    app = FastAPI(
        title="Shieldwall",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.db = db
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1")

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

    return app
