from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from tulpar.models import OtpChallenge

# Advisory-lock namespaces (first key of pg_advisory_xact_lock(int, int)).
_SUBJECT_LOCK = 7301
_ADDRESS_LOCK = 7302


def lock_for_request(session: Session, *, subject: str, client_address: str) -> None:
    """Serialise code requests per subject, then per address (always in this order, so two
    requests can never wait on each other crosswise). Held until the transaction ends."""
    statement = text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:key))")
    session.execute(statement, {"namespace": _SUBJECT_LOCK, "key": subject})
    session.execute(statement, {"namespace": _ADDRESS_LOCK, "key": client_address})


def latest(session: Session, subject: str) -> OtpChallenge | None:
    query = (
        select(OtpChallenge)
        .where(OtpChallenge.subject == subject)
        .order_by(OtpChallenge.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def window_by_subject(
    session: Session, subject: str, *, since: datetime
) -> tuple[int, datetime | None]:
    """How many challenges ``subject`` got since ``since``, and the oldest one's time."""
    row = session.execute(
        select(func.count(), func.min(OtpChallenge.created_at)).where(
            OtpChallenge.subject == subject, OtpChallenge.created_at > since
        )
    ).one()
    return int(row[0]), row[1]


def window_by_address(
    session: Session, client_address: str, *, since: datetime
) -> tuple[int, datetime | None]:
    row = session.execute(
        select(func.count(), func.min(OtpChallenge.created_at)).where(
            OtpChallenge.client_address == client_address, OtpChallenge.created_at > since
        )
    ).one()
    return int(row[0]), row[1]


def add_challenge(session: Session, challenge: OtpChallenge) -> OtpChallenge:
    session.add(challenge)
    session.flush()
    return challenge


def count_attempt(
    session: Session, challenge_id: int, *, max_attempts: int, now: datetime
) -> tuple[int, str | None] | None:
    """Atomically use one attempt of a live challenge: ``(attempts, code_hmac)``, or ``None``
    when it is expired, already verified or out of attempts. Concurrent verifies serialise on
    the row, so no more than ``max_attempts`` are ever counted."""
    row = session.execute(
        update(OtpChallenge)
        .where(
            OtpChallenge.id == challenge_id,
            OtpChallenge.attempts < max_attempts,
            OtpChallenge.verified_at.is_(None),
            OtpChallenge.expires_at > now,
        )
        .values(attempts=OtpChallenge.attempts + 1)
        .returning(OtpChallenge.attempts, OtpChallenge.code_hmac)
    ).one_or_none()
    return None if row is None else (int(row[0]), row[1])


def mark_verified(session: Session, challenge_id: int, *, now: datetime) -> bool:
    result = session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge_id, OtpChallenge.verified_at.is_(None))
        .values(verified_at=now)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def purge_before(session: Session, *, before: datetime) -> int:
    """Delete tokens and challenges that ended before ``before`` (kept a day for audit)."""
    tokens = session.execute(
        text("DELETE FROM traveller_tokens WHERE expires_at < :before"), {"before": before}
    )
    challenges = session.execute(
        text(
            "DELETE FROM otp_challenges c WHERE c.expires_at < :before AND NOT EXISTS"
            " (SELECT 1 FROM traveller_tokens t WHERE t.challenge_id = c.id)"
        ),
        {"before": before},
    )
    return int(tokens.rowcount) + int(challenges.rowcount)  # type: ignore[attr-defined]
