"""``shieldwall serve``: the API (and later the web UI) over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from shieldwall.runtime import database


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8000,
) -> None:
    """Serve the REST API at /api/v1 (OpenAPI document at /api/v1/openapi.json)."""
    # Imported here: the web stack would add a quarter second to every other command.
    import uvicorn

    from shieldwall.web.app import create_app

    app = create_app(database())
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
