"""Server-side staff sessions. The browser holds a random token; the table holds only its
SHA-256, so a copy of the table signs nobody in. A session ends when revoked (sign-out, an
admin), after ``staff_session_idle_minutes`` without a request, or
``staff_session_absolute_hours`` after it began, whichever comes first."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.config import get_settings
from tulpar.models import StaffSession, StaffUser

# Seen more often than this, last_seen_at is not rewritten on every request.
_TOUCH_EVERY = timedelta(seconds=30)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: StaffUser) -> str:
    """A new session of ``user``; returns the token for the cookie (shown only now)."""
    settings = get_settings()
    now = clock.now()
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            staff_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.staff_session_absolute_hours),
            csrf_secret=secrets.token_urlsafe(32),
        )
    )
    session.flush()
    return token


def live(session: Session, token: str | None) -> tuple[StaffSession, StaffUser] | None:
    """The session behind ``token`` and its user if it is still good (not revoked, not idle
    too long, not past its end, user not disabled), else ``None``. Marks it seen."""
    if not token:
        return None
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == token_hash(token))
    ).one_or_none()
    if row is None:
        return None
    staff_session, user = row
    now = clock.now()
    idle = timedelta(minutes=get_settings().staff_session_idle_minutes)
    if (
        staff_session.revoked_at is not None
        or user.disabled_at is not None
        or staff_session.expires_at <= now
        or staff_session.last_seen_at + idle <= now
    ):
        return None
    if now - staff_session.last_seen_at >= _TOUCH_EVERY:
        staff_session.last_seen_at = now
    return staff_session, user


def csrf_matches(staff_session: StaffSession, presented: str | None) -> bool:
    """Whether a form's CSRF token is this session's (compared in constant time)."""
    return bool(presented) and hmac.compare_digest(
        staff_session.csrf_secret.encode(), (presented or "").encode()
    )


def revoke(session: Session, token: str | None) -> None:
    """End the session behind ``token`` (sign-out); nothing if there is none."""
    if token:
        session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == token_hash(token), StaffSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


def revoke_all(session: Session, staff_id: int) -> int:
    """End every open session of one staff user; returns how many were open."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
