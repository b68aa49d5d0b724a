"""Proving a traveller holds a card: a 6-digit SMS code exchanged for a short-lived token.

Every answer is the same whether or not the card exists: an unknown (or unreachable) card
gets a challenge row too, keyed by a keyed hash of what was typed, so cooldowns, hourly caps,
attempt counting and lockouts behave identically — only no SMS leaves and no code matches."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import tokens
from tulpar.card import service as card_service
from tulpar.config import get_settings
from tulpar.errors import CardNotFoundError
from tulpar.identifiers import Iccid, parse_card_reference
from tulpar.kit import metrics
from tulpar.models import Card, CardState, OtpChallenge
from tulpar.notification import service as notification_service
from tulpar.otp import repository
from tulpar.otp.errors import (
    OtpLockedError,
    OtpNotConfiguredError,
    OtpRateLimitedError,
    OtpRejectedError,
    OtpResendTooSoonError,
)

CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_COOLDOWN = timedelta(seconds=60)
CAP_WINDOW = timedelta(hours=1)
PLACEHOLDER_SECRETS = frozenset({"", "change-me-otp-secret", "change-me", "changeme", "secret"})
RELAXED_ENVIRONMENTS = frozenset({"development", "test"})


def _secret() -> bytes:
    settings = get_settings()
    weak = settings.otp_secret in PLACEHOLDER_SECRETS or len(settings.otp_secret) < 32
    if weak and settings.environment not in RELAXED_ENVIRONMENTS:
        raise OtpNotConfiguredError(
            "Set TULPAR_OTP_SECRET to a random value of at least 32 characters"
        )
    return settings.otp_secret.encode()


def _keyed_hash(purpose: str, value: str) -> str:
    return hmac.new(_secret(), f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def _code_hmac(subject: str, code: str) -> str:
    return _keyed_hash(f"otp-code\x00{subject}", code)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def answer_floor_seconds() -> float:
    """How long every answer to a code request takes at least (the channels hold it with
    :func:`tulpar.kit.answer_floor.answer_no_sooner_than`)."""
    return get_settings().otp_answer_floor_seconds


@dataclass(frozen=True, slots=True)
class _Subject:
    key: str
    card: Card | None  # only when a code can really be sent to it


def _resolve(session: Session, reference: str) -> _Subject:
    """Raises ``InvalidCardReferenceError`` (422) for text that is not a card number at all."""
    parsed = parse_card_reference(reference)
    # Hashed whether or not the card exists: the same work either way.
    reference_key = f"ref:{_keyed_hash('otp-ref', parsed.value)[:40]}"
    try:
        card = card_service.find(session, parsed)
    except CardNotFoundError:
        card = None
    # A recycled number belongs to someone else now: never send the old card's code there.
    if card is not None and (
        card.msisdn is None or card_service.effective_state(card) is CardState.terminated
    ):
        card = None
    if card is None:
        return _Subject(key=reference_key, card=None)
    return _Subject(key=f"card:{card.id}", card=card)


def request_code(session: Session, reference: str, *, client_address: str) -> None:
    """Send a new code to the card's phone (if there is such a card). Raises
    :class:`OtpResendTooSoonError` or :class:`OtpRateLimitedError` with ``retry_after_seconds``."""
    subject = _resolve(session, reference)
    now = clock.now()
    repository.lock_for_request(session, subject=subject.key, client_address=client_address)
    previous = repository.latest(session, subject.key)
    if previous is not None and previous.created_at > now - RESEND_COOLDOWN:
        raise OtpResendTooSoonError(
            "Wait a moment before asking for another code",
            retry_after_seconds=_seconds_until(previous.created_at + RESEND_COOLDOWN, now),
        )
    settings = get_settings()
    since = now - CAP_WINDOW
    for count, oldest, cap in (
        (
            *repository.window_by_subject(session, subject.key, since=since),
            settings.otp_hourly_cap_per_card,
        ),
        (
            *repository.window_by_address(session, client_address, since=since),
            settings.otp_hourly_cap_per_address,
        ),
    ):
        if count >= cap and oldest is not None:
            metrics.otp_refused("rate_limited")
            raise OtpRateLimitedError(
                "Too many codes were requested; please try again later",
                retry_after_seconds=_seconds_until(oldest + CAP_WINDOW, now),
            )
    # From here both sides do the same work (the code hashed, a challenge written, an SMS
    # queued or its decoy of equal cost), so the answer's time does not tell whether the card
    # exists (issue 12, defect 9).
    code = f"{secrets.randbelow(1_000_000):06d}"
    code_hmac = _code_hmac(subject.key, code)
    challenge = repository.add_challenge(
        session,
        OtpChallenge(
            subject=subject.key,
            card_id=None if subject.card is None else subject.card.id,
            client_address=client_address[:64],
            code_hmac=None if subject.card is None else code_hmac,
            attempts=0,
            expires_at=now + CODE_LIFETIME,
            created_at=now,
        ),
    )
    if subject.card is not None:
        notification_service.queue_sms(
            session,
            card_id=subject.card.id,
            template="otp",
            context={"code": code},
            dedupe_key=f"otp:{challenge.id}",
        )
    else:
        notification_service.queue_decoy_sms(
            session, template="otp", context={"code": code}, dedupe_key=f"otp:{challenge.id}"
        )
        metrics.otp_sent()


@dataclass(frozen=True, slots=True)
class VerifiedCard:
    token: str
    expires_at: datetime
    card_id: int
    card_masked: str


def verify(session: Session, reference: str, code: str) -> VerifiedCard:
    """Exchange the latest code for a traveller token (valid for
    :data:`tulpar.auth.tokens.TOKEN_LIFETIME`).

    A wrong code raises :class:`OtpRejectedError` *after* counting the attempt: callers must
    commit the transaction on that error (the endpoint answers without re-raising)."""
    subject = _resolve(session, reference)
    now = clock.now()
    challenge = repository.latest(session, subject.key)
    if challenge is None:
        raise OtpRejectedError("The code is wrong or has expired; request a new code")
    if challenge.attempts >= MAX_ATTEMPTS and challenge.verified_at is None:
        raise _locked(challenge, now)
    counted = repository.count_attempt(session, challenge.id, max_attempts=MAX_ATTEMPTS, now=now)
    if counted is None:
        session.refresh(challenge)
        if challenge.attempts >= MAX_ATTEMPTS and challenge.verified_at is None:
            raise _locked(challenge, now)
        raise OtpRejectedError("The code is wrong or has expired; request a new code")
    attempts, code_hmac = counted
    matches = code_hmac is not None and hmac.compare_digest(
        code_hmac, _code_hmac(subject.key, code)
    )
    if not matches or subject.card is None:
        raise OtpRejectedError(
            "The code is wrong or has expired", attempts_left=MAX_ATTEMPTS - attempts
        )
    if not repository.mark_verified(session, challenge.id, now=now):
        raise OtpRejectedError("The code is wrong or has expired; request a new code")
    issued = tokens.issue(session, card_id=subject.card.id, challenge_id=challenge.id, now=now)
    return VerifiedCard(
        token=issued.token,
        expires_at=issued.expires_at,
        card_id=subject.card.id,
        card_masked=Iccid(subject.card.iccid).masked(),
    )


def _locked(challenge: OtpChallenge, now: datetime) -> OtpLockedError:
    metrics.otp_refused("locked")
    unlock_at = max(challenge.created_at + RESEND_COOLDOWN, now)
    return OtpLockedError(
        "Too many wrong codes; request a new code",
        retry_after_seconds=_seconds_until(unlock_at, now) if unlock_at > now else 0,
    )


def purge(session: Session, *, now: datetime) -> int:
    """Forget challenges and tokens that ended more than a day ago."""
    return repository.purge_before(session, before=now - timedelta(days=1))
