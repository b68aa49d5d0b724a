"""The FastAPI application: API, health, and (in later issues) pages."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tulpar.balance.endpoints import router as balance_router
from tulpar.catalog.endpoints import router as catalog_router
from tulpar.config import get_settings
from tulpar.db import get_sessionmaker
from tulpar.notification.endpoints import router as outbox_router
from tulpar.order.endpoints import router as order_router
from tulpar.otp.endpoints import router as otp_router
from tulpar.payment.endpoints import router as payment_router
from tulpar.provisioning.endpoints import router as carrier_callback_router
from tulpar.receipt.endpoints import router as receipt_router
from tulpar.usage.endpoints import router as usage_router
from tulpar.web import health, problems


def create_app(session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    app = FastAPI(
        title="Tulpar",
        version="1",
        summary="Travel-eSIM plans for Kazakhstan: catalog, balances, renewals.",
        openapi_url="/openapi.json",
    )
    app.state.sessionmaker = session_factory or get_sessionmaker()
    problems.install(app)
    app.include_router(health.router)
    app.include_router(catalog_router)
    app.include_router(balance_router)
    app.include_router(otp_router)
    app.include_router(receipt_router)
    app.include_router(usage_router)
    app.include_router(carrier_callback_router)
    app.include_router(order_router)
    app.include_router(payment_router)
    if get_settings().is_demo:
        app.include_router(outbox_router)
    return app
