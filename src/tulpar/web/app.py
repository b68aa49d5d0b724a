"""The FastAPI application: API, health, and (in later issues) pages."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tulpar.balance.endpoints import router as balance_router
from tulpar.catalog.endpoints import router as catalog_router
from tulpar.db import get_sessionmaker
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
    return app
