"""The FastAPI application: the partner and traveller API, the inbound webhooks and
callbacks, receipts, and the development pages."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tulpar.api import (
    balance,
    card_usage,
    catalog,
    health,
    inbound,
    orders,
    otp,
    partner_lists,
    quotes,
    usage,
    webhook_endpoints,
)
from tulpar.api import metrics as metrics_api
from tulpar.api import sms as sms_api
from tulpar.api import ussd as ussd_api
from tulpar.api.dependencies import AnonymousLimit
from tulpar.config import check_environment, get_settings
from tulpar.db import get_sessionmaker
from tulpar.demo import ussd_simulator
from tulpar.errors import InvalidInputError
from tulpar.kit import (
    body_limit,
    forwarded,
    load_shedding,
    metrics,
    nul_bytes,
    openapi,
    outage,
    problems,
)
from tulpar.kit.logging import configure_logging
from tulpar.kit.rate_limit import rate_limits
from tulpar.kit.request_id import RequestIdMiddleware
from tulpar.receipt.endpoints import router as receipt_router
from tulpar.web import outbox, payment_link, sandbox_pay
from tulpar.web.backoffice import router as backoffice_router
from tulpar.web.staff import router as staff_router
from tulpar.web.staff.session import StaffSessionMiddleware
from tulpar.web.store import router as store_router
from tulpar.web.support import router as support_router
from tulpar.web.traveller import router as traveller_router
from tulpar.web.traveller import static_files as traveller_static_files
from tulpar.web.traveller.pages import PageNotFoundError, error_page


def create_app(session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    check_environment()  # production refuses to start with a simulator enabled
    app = FastAPI(
        title="Tulpar",
        version="1",
        summary="Travel-eSIM plans for Kazakhstan: catalog, balances, renewals.",
        openapi_url="/openapi.json",
    )
    app.state.sessionmaker = session_factory or get_sessionmaker()
    app.state.rate_limits = rate_limits(get_settings())
    problems.install(app)
    outage.install(app, retry_after_seconds=get_settings().retry_after_seconds)
    load_shedding.install(app, get_settings())
    body_limit.install(app, get_settings())
    nul_bytes.install(app, page=_refusal_page)
    app.include_router(health.router)
    app.include_router(catalog.router, dependencies=[AnonymousLimit])
    app.include_router(balance.router)
    app.include_router(card_usage.router)
    app.include_router(otp.router, dependencies=[AnonymousLimit])
    app.include_router(receipt_router)
    app.include_router(usage.router)
    app.include_router(inbound.router)
    app.include_router(sms_api.router)
    app.include_router(orders.router)
    app.include_router(partner_lists.router)
    app.include_router(quotes.router)
    webhook_endpoints.install(app)  # /v1/webhook-endpoints and the webhooks' documentation
    if get_settings().sandbox_enabled:  # never in production
        app.include_router(sandbox_pay.router)
    app.include_router(traveller_router)
    app.include_router(staff_router)
    app.include_router(support_router)
    app.include_router(store_router)
    app.include_router(backoffice_router)
    # The consoles under /support, /store and /backoffice read the staff caller from
    # request.state.
    app.add_middleware(StaffSessionMiddleware)
    app.mount("/static", traveller_static_files(), name="static")
    app.include_router(ussd_api.router)
    app.include_router(payment_link.router)
    if get_settings().dev_pages_enabled:  # /dev/*: never in production
        app.include_router(outbox.router)
        app.include_router(ussd_simulator.router)
    app.include_router(metrics_api.router)
    # Observability (outermost): every answer is counted and carries its request id.
    configure_logging(get_settings())
    bind = app.state.sessionmaker.kw.get("bind")
    if isinstance(bind, Engine):
        metrics.watch_pool(bind)
    app.add_middleware(metrics.HttpMetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    forwarded.install(app, get_settings())  # outermost: every layer sees the real client
    openapi.install(app)
    return app


def _refusal_page(request: Request, status: int) -> Response:
    """The traveller's error page, for a browser sent to an address no page can have."""
    return error_page(request, PageNotFoundError() if status == 404 else InvalidInputError())
