"""The demo's store, admin and clerk: seeded once, and they can sign in."""

from __future__ import annotations

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tulpar.demo.staff import seed_staff
from tulpar.models import StaffUser, Store
from tulpar.staff import service as staff_service
from tulpar.staff.service import SignInStep


def test_seeding_twice_gives_the_same_people(session: Session) -> None:
    first = seed_staff(session)
    again = seed_staff(session)
    assert first == again
    assert session.scalar(select(func.count()).select_from(StaffUser)) == 2
    assert session.scalar(select(func.count()).select_from(Store)) == 1
    clerk = staff_service.sign_in(session, first.clerk_username, first.clerk_password)
    assert clerk.step is SignInStep.done
    admin = staff_service.sign_in(session, first.admin_username, first.admin_password)
    current = staff_service.signed_in(session, admin.token)
    assert current is not None
    code = pyotp.TOTP(first.admin_totp_secret).now()
    assert staff_service.second_factor(session, current, code)
