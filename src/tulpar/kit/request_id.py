"""The request id: taken from a valid incoming ``X-Request-ID`` or made up, bound in
``structlog.contextvars`` for the request (every log line carries it, :mod:`tulpar.jobs`
hands it to the jobs the request enqueues, order events record it) and echoed in the
response's ``X-Request-ID``."""

from __future__ import annotations

import re
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
CONTEXT_KEY = "request_id"
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")


def current() -> str | None:
    """The request id bound for this request or job, if any."""
    value = structlog.contextvars.get_contextvars().get(CONTEXT_KEY)
    return value if isinstance(value, str) else None


def accepted(incoming: str | None) -> str:
    """The incoming id when it is plain enough to log (8-128 of letters, digits, ``._:-``),
    else a new one."""
    if incoming is not None and _VALID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = accepted(incoming)
        scope.setdefault("state", {})[CONTEXT_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        with structlog.contextvars.bound_contextvars(**{CONTEXT_KEY: request_id}):
            await self.app(scope, receive, send_with_id)
