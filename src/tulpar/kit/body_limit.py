"""Request bodies are capped per route before they are read: a declared ``Content-Length``
over the cap is answered 413 at once, without reading a byte; a body that comes in chunks is
counted as it streams in and refused at the first byte over. Nobody can make the process hold
200 MB of a POST to an unauthenticated route."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tulpar.config import Settings
from tulpar.kit.problems import problem

BODY_TOO_LARGE = "body_too_large"


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` while the app reads the body. An ``HTTPException``, because
    FastAPI turns any other failure while reading a body into 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit:,} bytes")


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, default_bytes: int, by_path: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.by_path = dict(by_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope["path"], self.default_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refusal(scope, limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counting(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def receiving() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        try:
            await self.app(scope, receiving, counting)
        except BodyTooLargeError:
            if started:
                raise
            await _refusal(scope, limit)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _refusal(scope: Scope, limit: int) -> ASGIApp:
    response = problem(
        status=413,
        code=BODY_TOO_LARGE,
        title="Request body too large",
        detail=f"The request body is larger than {limit:,} bytes",
        instance=scope["path"],
    )
    response.headers["Connection"] = "close"  # the rest of the body is never read
    return response


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        BodyLimitMiddleware,
        default_bytes=settings.max_body_bytes,
        by_path={"/v1/usage-records": settings.max_usage_body_bytes},
    )
