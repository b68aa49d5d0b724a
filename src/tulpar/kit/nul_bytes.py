"""A NUL byte can be in no name, number or text of ours, and PostgreSQL refuses it in any text
value. A request with one in its path or query is refused before it is routed (404 for a
path: no such page or resource; 400 for a query); one that carries a NUL in a body field
into a query gets 400 from the database's refusal, with its transaction rolled back. Either
way: problem JSON, or for a browser (``Accept: text/html``) the page the app supplies, in the
user's language."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import exc
from starlette.types import ASGIApp, Receive, Scope, Send

from tulpar.kit.problems import problem

NulPage = Callable[[Request, int], Response]  # the HTML answer with this status
INVALID_TEXT = "invalid_text"
_NUL_IN_QUERY = (b"%00", b"\x00")


class NulBytesMiddleware:
    def __init__(self, app: ASGIApp, *, page: NulPage | None = None) -> None:
        self.app = app
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = _refused_status(scope)
        if status is None:
            await self.app(scope, receive, send)
            return
        response = _refusal(Request(scope, receive), status, self.page)
        await response(scope, receive, send)


def _refused_status(scope: Scope) -> int | None:
    if "\x00" in scope["path"]:
        return 404
    query: bytes = scope.get("query_string", b"")
    if any(marker in query for marker in _NUL_IN_QUERY):
        return 400
    return None


def _refusal(request: Request, status: int, page: NulPage | None) -> Response:
    if page is not None and "text/html" in request.headers.get("accept", ""):
        return page(request, status)
    if status == 404:
        return problem(
            status=404,
            code="not_found",
            title="Not Found",
            detail="Not Found",
            instance=request.url.path.replace("\x00", "%00"),
        )
    return _invalid_text(request)


def _invalid_text(request: Request) -> Response:
    return problem(
        status=400,
        code=INVALID_TEXT,
        title="Text with a NUL character",
        detail="A field holds a NUL (0x00) character, which no text here may contain",
        instance=request.url.path.replace("\x00", "%00"),
    )


def _is_nul_refusal(error: exc.DataError) -> bool:
    message = str(error.orig)
    return "NUL" in message or "0x00" in message


def install(app: FastAPI, *, page: NulPage | None = None) -> None:
    app.add_middleware(NulBytesMiddleware, page=page)

    @app.exception_handler(exc.DataError)
    async def database_refused_text(request: Request, error: exc.DataError) -> Response:
        if not _is_nul_refusal(error):
            raise error
        if page is not None and "text/html" in request.headers.get("accept", ""):
            return page(request, 400)
        return _invalid_text(request)
