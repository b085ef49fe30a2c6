"""Every error a client sees: ``{"error": {"code", "message"}}`` with the right status, and
never a stack trace (internal errors are logged here, answered with a generic message)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from shieldwall.errors import NotFoundError, ShieldwallError

log = logging.getLogger("shieldwall.web")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    code = _CODES.get(status, "internal_error" if status >= 500 else "error")
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


PageRenderer = Callable[[Request, int, str], Response]
"""Renders an error as a web page (for requests that are not API calls)."""

_MACHINE_PATHS = ("/api/", "/healthz", "/readyz", "/metrics", "/static/")


def install(app: FastAPI, page: PageRenderer) -> None:
    def answer(
        request: Request, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        if request.url.path.startswith(_MACHINE_PATHS):
            return error_response(status, message, headers)
        return page(request, status, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return answer(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        return answer(request, 422, message)

    @app.exception_handler(ShieldwallError)
    async def domain_error(request: Request, exc: ShieldwallError) -> Response:
        return answer(request, 404 if isinstance(exc, NotFoundError) else 400, exc.message)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return answer(request, 500, "internal error")
