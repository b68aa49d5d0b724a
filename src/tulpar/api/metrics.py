"""``/metrics``: Prometheus exposition. With ``TULPAR_METRICS_TOKEN`` set it wants
``Authorization: Bearer <token>`` from anywhere; unset, it answers only loopback callers,
and in production nobody (set a token there, or scrape the worker's loopback port)."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response

from tulpar.config import get_settings
from tulpar.kit import metrics
from tulpar.kit.problems import problem

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def scrape(request: Request) -> Response:
    refusal = _refusal(request)
    if refusal is not None:
        status, code, detail = refusal
        return problem(
            status=status, code=code, title=detail, detail=detail, instance=request.url.path
        )
    body = metrics.render(getattr(request.app.state, "sessionmaker", None))
    return Response(body, media_type=metrics.CONTENT_TYPE)


def _refusal(request: Request) -> tuple[int, str, str] | None:
    settings = get_settings()
    token = settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return None
        return 401, "unauthorized", "A valid metrics token is required"
    if settings.environment == "production":
        return 403, "forbidden", "Set TULPAR_METRICS_TOKEN to scrape metrics in production"
    if not _is_loopback(request.client.host if request.client else None):
        return 403, "forbidden", "Without a metrics token, metrics answer only loopback callers"
    return None


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
