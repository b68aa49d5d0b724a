"""Staff users and their sign-in: create (argon2 password), sign in with lockout that never
tells whether a username exists, a TOTP second factor for ``admin`` and ``support``
(enrolled by QR at the first sign-in unless the CLI printed the secret), sessions, sign-out,
disabling and revoking. Authorisation is decided here, on the caller (``users.*`` in
:mod:`tulpar.auth.roles`); every change of access is audited."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.audit import service as audit
from tulpar.auth import roles
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.config import get_settings
from tulpar.errors import ForbiddenError, InvalidInputError, TulparError
from tulpar.models import StaffRole, StaffSession, StaffUser
from tulpar.models.staff import SECOND_FACTOR_ROLES, STORE_ROLES
from tulpar.staff import passwords, repository, sessions, totp
from tulpar.store import service as store_service

USERNAME_FORMAT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
STAFF_LANGUAGES = ("en", "ru", "kk", "zh-Hans")


class StaffUserExistsError(TulparError):
    status = 409
    code = "staff_user_exists"
    title = "A staff user with this username exists"


class SignInStep(enum.StrEnum):
    done = "done"  # signed in
    second_factor = "second_factor"  # password right; the TOTP code is next
    enrol = "enrol"  # password right; scan the QR code, then the TOTP code


@dataclass(frozen=True, slots=True)
class SignInResult:
    """``token`` is ``None`` when refused; the refusal is the same whatever the reason
    (unknown user, wrong password, locked, disabled)."""

    token: str | None
    step: SignInStep | None

    @property
    def refused(self) -> bool:
        return self.token is None


REFUSED = SignInResult(token=None, step=None)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live staff session: its user, the :class:`Caller` services take, the CSRF token
    its forms carry, and ``pending`` when the second factor is still to come."""

    user: StaffUser
    staff_session: StaffSession
    caller: Caller
    csrf_token: str
    pending: SignInStep | None

    @property
    def complete(self) -> bool:
        return self.pending is None


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


# -- users -----------------------------------------------------------------------------------


def create_user(
    session: Session,
    caller: Caller,
    *,
    username: str,
    password: str,
    role: StaffRole | str,
    store_id: int | None = None,
    display_name: str | None = None,
    language: str = "en",
) -> StaffUser:
    """A new staff user. An admin creates anyone; a store manager only clerks and managers
    of their own store. Admin and support get a TOTP secret now (see :func:`enrolment`)."""
    roles.require(caller, "users.create")
    role = _role(role)
    if caller.role != roles.ADMIN:
        if role not in STORE_ROLES:
            raise ForbiddenError("A store manager creates clerks and store managers only")
        store_id = store_id if store_id is not None else caller.store_id
        roles.ensure_same_store(caller, store_id)
    username = username.strip()
    if not USERNAME_FORMAT.match(username):
        raise InvalidInputError("A username is 2–64 letters, digits, dots, dashes or underscores")
    if len(password) < passwords.MIN_LENGTH:
        raise InvalidInputError(f"A password has at least {passwords.MIN_LENGTH} characters")
    if language not in STAFF_LANGUAGES:
        raise InvalidInputError(f"A language is one of {', '.join(STAFF_LANGUAGES)}")
    if role in STORE_ROLES:
        if store_id is None:
            raise InvalidInputError("A clerk or store manager belongs to a store")
        store_service.get_store(session, caller, store_id)
    else:
        store_id = None
    if repository.by_username(session, username) is not None:
        raise StaffUserExistsError()
    user = StaffUser(
        username=username,
        display_name=(display_name or username).strip()[:120],
        password_hash=passwords.hash_password(password),
        role=role,
        store_id=store_id,
        language=language,
        totp_secret=totp.new_secret() if role in SECOND_FACTOR_ROLES else None,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as error:  # the same username created at the same moment
        raise StaffUserExistsError() from error
    audit.record(
        session,
        caller,
        "users.create",
        subject=f"staff:{user.id}",
        after={"username": username, "role": role.value, "store_id": store_id},
    )
    return user


def find_by_username(session: Session, username: str) -> StaffUser | None:
    """The staff user called ``username`` (any case), without an authorisation check: for
    commands and the demo seed."""
    return repository.by_username(session, username)


def list_users(session: Session, caller: Caller) -> list[StaffUser]:
    """Everyone for an admin; a store manager's own store's staff."""
    roles.require(caller, "users.list")
    if caller.role == roles.ADMIN:
        return repository.listed(session)
    roles.ensure_same_store(caller, caller.store_id)
    return repository.listed(session, store_id=caller.store_id)


def get_user(session: Session, caller: Caller, staff_id: int, *, action: str) -> StaffUser:
    """One staff user the caller may act on with ``action`` (404 for another store's)."""
    roles.require(caller, action)
    user = repository.by_id(session, staff_id, for_update=True)
    if user is None:
        raise roles.NotFoundError()
    roles.ensure_same_store(caller, user.store_id)
    return user


def disable_user(session: Session, caller: Caller, staff_id: int, *, reason: str) -> StaffUser:
    """Stop a user signing in, and end their sessions now."""
    user = get_user(session, caller, staff_id, action="users.disable")
    if user.disabled_at is None:
        user.disabled_at = clock.now()
        ended = sessions.revoke_all(session, user.id)
        audit.record(
            session,
            caller,
            "users.disable",
            subject=f"staff:{user.id}",
            reason=reason,
            before={"disabled": False},
            after={"disabled": True, "sessions_ended": ended},
        )
    return user


def revoke_sessions(session: Session, caller: Caller, staff_id: int, *, reason: str) -> int:
    """End every open session of a user (they sign in again); returns how many."""
    user = get_user(session, caller, staff_id, action="users.revoke_sessions")
    ended = sessions.revoke_all(session, user.id)
    audit.record(
        session,
        caller,
        "users.revoke_sessions",
        subject=f"staff:{user.id}",
        reason=reason,
        after={"sessions_ended": ended},
    )
    return ended


# -- sign-in ---------------------------------------------------------------------------------


def sign_in(session: Session, username: str, password: str) -> SignInResult:
    """Check a username and password. Refused (:data:`REFUSED`) for an unknown user, a
    wrong password, a locked or disabled account alike, with the same argon2 work for each.
    The ``staff_max_failed_attempts``-th wrong password in a row locks the account for
    ``staff_lockout_minutes``. The caller commits even when refused (the count is kept)."""
    user = repository.by_username(session, username, for_update=True) if username else None
    if user is None or user.disabled_at is not None:
        passwords.verify_nobody(password)
        return REFUSED
    now = clock.now()
    right = passwords.verify(user.password_hash, password)
    if user.locked_until is not None and user.locked_until > now:
        return REFUSED
    if not right:
        _count_failure(user)
        return REFUSED
    user.failed_attempts = 0
    user.locked_until = None
    token = sessions.start(session, user)
    step = _pending_step(user, second_factor_at=None)
    if step is None:
        audit.record(session, auth_service.staff(user), "staff.sign_in", subject=f"staff:{user.id}")
    return SignInResult(token=token, step=step or SignInStep.done)


def signed_in(session: Session, token: str | None) -> SignedIn | None:
    """The live session behind a cookie's token, or ``None`` (unknown, revoked, expired,
    user disabled). ``pending`` says whether the TOTP step is still due."""
    found = sessions.live(session, token)
    if found is None:
        return None
    staff_session, user = found
    return SignedIn(
        user=user,
        staff_session=staff_session,
        caller=auth_service.staff(user),
        csrf_token=staff_session.csrf_secret,
        pending=_pending_step(user, second_factor_at=staff_session.second_factor_at),
    )


def enrolment(session: Session, current: SignedIn) -> Enrolment | None:
    """The QR code to scan, for a session whose user has not yet enrolled (else ``None``)."""
    user = current.user
    if current.pending is not SignInStep.enrol:
        return None
    if user.totp_secret is None:
        user.totp_secret = totp.new_secret()
        session.flush()
    uri = totp.enrolment_uri(user.totp_secret, user.username)
    return Enrolment(secret=user.totp_secret, uri=uri, qr_svg=totp.qr_svg(uri))


def second_factor(session: Session, current: SignedIn, code: str) -> bool:
    """Check the TOTP code of a session waiting for it; right: the session is complete (and
    an enrolment is confirmed). Wrong codes count toward the lockout like wrong passwords;
    a lock ends the waiting session."""
    if current.pending is None:
        return True
    user = repository.by_id(session, current.user.id, for_update=True)
    now = clock.now()
    if user is None or user.totp_secret is None:
        return False
    if user.locked_until is not None and user.locked_until > now:
        sessions.revoke_all(session, user.id)
        return False
    if not totp.verify(user.totp_secret, code, at=now):
        if _count_failure(user):
            sessions.revoke_all(session, user.id)
        return False
    user.failed_attempts = 0
    if user.totp_enrolled_at is None:
        user.totp_enrolled_at = now
    current.staff_session.second_factor_at = now
    audit.record(session, auth_service.staff(user), "staff.sign_in", subject=f"staff:{user.id}")
    return True


def sign_out(session: Session, token: str | None) -> None:
    sessions.revoke(session, token)


def _pending_step(user: StaffUser, *, second_factor_at: object) -> SignInStep | None:
    if user.role not in SECOND_FACTOR_ROLES or second_factor_at is not None:
        return None
    return SignInStep.second_factor if user.totp_enrolled_at is not None else SignInStep.enrol


def _count_failure(user: StaffUser) -> bool:
    """One more failure; returns whether the account is now locked."""
    settings = get_settings()
    user.failed_attempts += 1
    if user.failed_attempts < settings.staff_max_failed_attempts:
        return False
    user.failed_attempts = 0
    user.locked_until = clock.now() + timedelta(minutes=settings.staff_lockout_minutes)
    return True


def _role(role: StaffRole | str) -> StaffRole:
    try:
        return StaffRole(role)
    except ValueError:
        raise InvalidInputError(
            f"A role is one of {', '.join(member.value for member in StaffRole)}"
        ) from None
