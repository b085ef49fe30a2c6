"""``shieldwall serve`` (API and web UI over HTTP) and ``shieldwall worker`` (background jobs
on PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shieldwall.auth.service import first_admin
from shieldwall.config import Settings, get_settings
from shieldwall.db.engine import Database
from shieldwall.runtime import database

console = Console(stderr=True)
INITIAL_PASSWORD_FILE = "initial-admin-password"  # noqa: S105 - a file name


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8000,
) -> None:
    """Serve the web UI at / and the REST API at /api/v1 (OpenAPI at /api/v1/openapi.json).
    On SQLite background jobs run in this process; on PostgreSQL run `shieldwall worker`."""
    # Imported here: the web stack would add a quarter second to every other command.
    import uvicorn

    from shieldwall.web.app import create_app

    settings = get_settings()
    db = database()
    _first_run(db, settings)
    if db.dialect == "postgresql":
        console.print("imports are queued for `shieldwall worker` processes", highlight=False)
    app = create_app(db, settings)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


def _first_run(db: Database, settings: Settings) -> None:
    """A store without accounts gets an admin; its password goes to a file only the owner
    can read (never to the terminal or a log)."""
    with db.write() as session:
        password = first_admin(session, settings.admin_email)
    if password is None:
        return
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = settings.home / INITIAL_PASSWORD_FILE
    _write_private(path, password + "\n")
    console.print(
        f"first run: created the admin account {settings.admin_email}; "
        f"its password is in {path} (readable only by you)",
        markup=False,
        highlight=False,
    )


def _write_private(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)


def worker_command(
    concurrency: Annotated[
        int, typer.Option(help="Jobs this process runs at once.", min=1, max=64)
    ] = 1,
) -> None:
    """Take background jobs (API imports) from the PostgreSQL queue until stopped."""
    from shieldwall.jobs import run_worker

    run_worker(database(), get_settings(), concurrency)
