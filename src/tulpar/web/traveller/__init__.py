"""The traveller's self-service pages: check the card, renew it, follow the order, keep the
receipt, ask for help — server-rendered in zh-Hans, ru, kk and en, working without scripts."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from tulpar.web.traveller import card, checkout, help, orders, plans, receipts, start, stores

STATIC_DIR = Path(__file__).parent.parent / "static"

router = APIRouter()
for area in (start, card, plans, checkout, orders, receipts, help, stores):
    router.include_router(area.router)


def static_files() -> StaticFiles:
    """Our own stylesheet and script (no third-party host)."""
    return StaticFiles(directory=STATIC_DIR)
