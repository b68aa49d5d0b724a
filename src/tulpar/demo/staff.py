"""Demo staff: a store, an admin (with a TOTP secret to add to an authenticator app) and a
clerk at that store. Idempotent: a rerun finds them and prints the same details."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar.auth import service as auth_service
from tulpar.staff import service as staff_service
from tulpar.store import service as store_service

DEMO_STORE_CODE = "ALA-01"
DEMO_ADMIN = ("admin", "demo-admin-password")
DEMO_CLERK = ("clerk", "demo-clerk-password")


@dataclass(frozen=True, slots=True)
class DemoStaff:
    store_code: str
    admin_username: str
    admin_password: str
    admin_totp_secret: str
    clerk_username: str
    clerk_password: str


def seed_staff(session: Session) -> DemoStaff:
    """The demo store, admin and clerk (created once)."""
    operator = auth_service.command_line("demo-seed")
    store = store_service.by_code(session, DEMO_STORE_CODE) or store_service.create_store(
        session,
        operator,
        code=DEMO_STORE_CODE,
        name="Tulpar Dostyk Plaza",
        city="Almaty",
        address="Samal-2 111, Dostyk Plaza, 1st floor",
        opening_hours="Every day 10:00–22:00",
        legal_name="Tulpar Retail LLP",
        bin="230540012345",
    )
    admin = staff_service.find_by_username(session, DEMO_ADMIN[0]) or staff_service.create_user(
        session,
        operator,
        username=DEMO_ADMIN[0],
        password=DEMO_ADMIN[1],
        role="admin",
        display_name="Demo admin",
    )
    staff_service.find_by_username(session, DEMO_CLERK[0]) or staff_service.create_user(
        session,
        operator,
        username=DEMO_CLERK[0],
        password=DEMO_CLERK[1],
        role="clerk",
        store_id=store.id,
        display_name="Demo clerk",
    )
    return DemoStaff(
        store_code=store.code,
        admin_username=DEMO_ADMIN[0],
        admin_password=DEMO_ADMIN[1],
        admin_totp_secret=admin.totp_secret or "",
        clerk_username=DEMO_CLERK[0],
        clerk_password=DEMO_CLERK[1],
    )
