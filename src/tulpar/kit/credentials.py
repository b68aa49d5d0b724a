"""The one place a request's credential is read: a bearer token, else the session cookie that
pages use. What the credential means is the auth service's business."""

from __future__ import annotations

from starlette.requests import HTTPConnection

SESSION_COOKIE = "tulpar_session"


def bearer_token(connection: HTTPConnection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def presented_credential(connection: HTTPConnection) -> str | None:
    """``Authorization: Bearer …`` first (API clients), then the session cookie (pages)."""
    return bearer_token(connection) or connection.cookies.get(SESSION_COOKIE) or None
