"""Sign-in through the service: lockout that does not tell whether a user exists, the TOTP
step for admin and support, expiry and revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tests.staff.conftest import PASSWORD, Team, code_for, make_user
from tulpar import clock
from tulpar.staff import passwords
from tulpar.staff import service as staff_service
from tulpar.staff.service import REFUSED, SignInStep

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_a_clerk_signs_in_with_a_password(session: Session, team: Team) -> None:
    result = staff_service.sign_in(session, "CLERK-1", PASSWORD)  # any case
    assert result.step is SignInStep.done
    current = staff_service.signed_in(session, result.token)
    assert current is not None
    assert current.complete
    assert current.caller.role == "clerk"
    assert current.caller.store_id == team.store.id
    assert current.caller.actor == "staff:clerk-1"


def test_wrong_passwords_lock_the_account_like_an_unknown_user_is_answered(
    session: Session, team: Team, configure: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real_verify = passwords.verify

    def counting_verify(hashed: str, password: str) -> bool:
        verified.append(password)
        return real_verify(hashed, password)

    monkeypatch.setattr(passwords, "verify", counting_verify)
    user = team.users["clerk"]
    with clock.frozen(START):
        for _ in range(5):
            assert staff_service.sign_in(session, "clerk-1", "wrong password") == REFUSED
        assert user.locked_until == START + timedelta(minutes=15)
        # Locked: even the right password is refused, exactly as for nobody at all.
        assert staff_service.sign_in(session, "clerk-1", PASSWORD) == REFUSED
        assert staff_service.sign_in(session, "nobody", PASSWORD) == REFUSED
    # Every attempt did one argon2 verification, the unknown user's too.
    assert len(verified) == 7
    with clock.frozen(START + timedelta(minutes=15, seconds=1)):
        assert staff_service.sign_in(session, "clerk-1", PASSWORD).step is SignInStep.done
        assert user.failed_attempts == 0


@pytest.mark.parametrize("role", ["admin", "support"])
def test_admin_and_support_need_the_totp_code(session: Session, team: Team, role: str) -> None:
    user = team.users[role]
    result = staff_service.sign_in(session, user.username, PASSWORD)
    assert result.step is SignInStep.enrol  # never entered a code yet
    current = staff_service.signed_in(session, result.token)
    assert current is not None
    assert not current.complete
    enrolment = staff_service.enrolment(session, current)
    assert enrolment is not None
    assert enrolment.qr_svg.startswith("<svg")
    assert "otpauth://totp/" in enrolment.uri
    assert "http" not in enrolment.qr_svg
    assert not staff_service.second_factor(session, current, "000000")
    assert not staff_service.signed_in(session, result.token).complete  # type: ignore[union-attr]
    assert staff_service.second_factor(session, current, code_for(user))
    assert staff_service.signed_in(session, result.token).complete  # type: ignore[union-attr]
    assert user.totp_enrolled_at is not None
    # Next time: the code, no QR.
    assert staff_service.sign_in(session, user.username, PASSWORD).step is SignInStep.second_factor


def test_wrong_codes_lock_and_end_the_waiting_session(session: Session, team: Team) -> None:
    result = staff_service.sign_in(session, "admin-1", PASSWORD)
    for _ in range(5):
        current = staff_service.signed_in(session, result.token)
        assert current is not None
        assert not staff_service.second_factor(session, current, "000000")
    assert staff_service.signed_in(session, result.token) is None
    assert team.users["admin"].locked_until is not None


def test_sessions_end_when_idle_at_their_end_and_when_revoked(session: Session, team: Team) -> None:
    with clock.frozen(START):
        token = staff_service.sign_in(session, "clerk-1", PASSWORD).token
    with clock.frozen(START + timedelta(minutes=29)):
        assert staff_service.signed_in(session, token) is not None  # seen: idle restarts
    with clock.frozen(START + timedelta(minutes=58)):
        assert staff_service.signed_in(session, token) is not None
    with clock.frozen(START + timedelta(minutes=58 + 30)):
        assert staff_service.signed_in(session, token) is None  # idle for 30 minutes
    with clock.frozen(START):
        token = staff_service.sign_in(session, "clerk-1", PASSWORD).token
    for minutes in range(25, 12 * 60, 25):  # busy all day, yet ends after 12 hours
        with clock.frozen(START + timedelta(minutes=minutes)):
            assert staff_service.signed_in(session, token) is not None
    with clock.frozen(START + timedelta(hours=12)):
        assert staff_service.signed_in(session, token) is None
    token = staff_service.sign_in(session, "clerk-1", PASSWORD).token
    staff_service.sign_out(session, token)
    assert staff_service.signed_in(session, token) is None


def test_a_disabled_user_is_answered_as_nobody(session: Session, team: Team) -> None:
    token = staff_service.sign_in(session, "clerk-1", PASSWORD).token
    staff_service.disable_user(session, team.caller("admin"), team.users["clerk"].id, reason="left")
    assert staff_service.signed_in(session, token) is None
    assert staff_service.sign_in(session, "clerk-1", PASSWORD) == REFUSED


def test_usernames_are_unique_ignoring_case(session: Session, team: Team) -> None:
    with pytest.raises(staff_service.StaffUserExistsError):
        make_user(session, "Clerk-1", "clerk", store=team.store)
