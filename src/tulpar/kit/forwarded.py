"""Who the client is: the peer address, unless the peer is a proxy we were told to trust
(``TULPAR_TRUSTED_PROXIES``), whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` then count.
By default no proxy is trusted, not even loopback (uvicorn's own default trusts 127.0.0.1),
so a forged ``X-Forwarded-For`` cannot escape a per-address limit. Servers are started with
uvicorn's proxy handling off (``SERVER_OPTIONS``) so this is the one place that decides."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tulpar.config import Settings

SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False}


def trusted_proxies(settings: Settings) -> list[str]:
    return [entry.strip() for entry in settings.trusted_proxies.split(",") if entry.strip()]


def install(app: FastAPI, settings: Settings) -> None:
    """Install last: outermost, so every other layer sees the client it resolves."""
    trusted = trusted_proxies(settings)
    if trusted:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
