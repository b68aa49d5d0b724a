"""Who may do what in the support console, and the audit record each change leaves.

Every action here is decided on the caller, in the service layer, so a page, a test and a
command get the same answer. ``ROLES`` is this console's part of the role matrix (rows of
:data:`tulpar.auth.roles.ROLES_FOR`); the row ``catalog.change_price`` is in it to say that
support never reprices a plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tulpar.audit import service as audit_service
from tulpar.auth import roles
from tulpar.auth.identity import Caller

# This console's actions; who may do each is the one role table (tulpar.auth.roles).
ACTIONS = (
    "order.search",
    "order.view",
    "order.retry_provisioning",
    "order.refund",
    "order.cancel",
    "card.view",
    "card.credit_wallet",
    "card.adjust_allowance",
    "card.suspend",
    "card.unsuspend",
    "card.resend_confirmation",
    "card.change_language",
    "ticket.view",
    "ticket.open",
    "ticket.assign",
    "ticket.note",
    "ticket.reply",
    "ticket.move",
    # Not a support action: only an admin changes the catalog.
    "catalog.change_price",
)
ROLES: Mapping[str, frozenset[str]] = {
    action: roles.ROLES_FOR.get(action, frozenset()) for action in ACTIONS
}


def may(caller: Caller, action: str) -> bool:
    return roles.may(caller, action)


def require(caller: Caller, action: str) -> None:
    """403 unless ``caller`` is staff whose role may do ``action``."""
    roles.require(caller, action)


def audit(
    session: Session,
    caller: Caller,
    action: str,
    *,
    subject: str,
    reason: str | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """One row of the audit log, in the caller's transaction."""
    _record(
        session,
        caller,
        action,
        subject=subject,
        reason=reason,
        before=None if before is None else dict(before),
        after=None if after is None else dict(after),
    )


def _record(
    session: Session,
    caller: Caller,
    action: str,
    *,
    subject: str,
    reason: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit_service.record(
        session, caller, action, subject=subject, reason=reason, before=before, after=after
    )
