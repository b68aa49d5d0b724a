"""Who may do what in the support console, and the audit record each change leaves.

Every action here is decided on the caller, in the service layer, so a page, a test and a
command get the same answer. ``ROLES`` is this console's part of the role matrix; the row
``catalog.change_price`` is in it to say, in one place, that support never reprices a plan."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy.orm import Session

from tulpar.auth.identity import Caller, CallerKind
from tulpar.errors import ForbiddenError

log = structlog.get_logger()

SUPPORT_ROLES = frozenset({"support", "admin"})

ROLES: Mapping[str, frozenset[str]] = {
    "order.search": SUPPORT_ROLES,
    "order.view": SUPPORT_ROLES,
    "order.retry_provisioning": SUPPORT_ROLES,
    "order.refund": SUPPORT_ROLES,
    "order.cancel": SUPPORT_ROLES,
    "card.view": SUPPORT_ROLES,
    "card.credit_wallet": SUPPORT_ROLES,
    "card.adjust_allowance": SUPPORT_ROLES,
    "card.suspend": SUPPORT_ROLES,
    "card.unsuspend": SUPPORT_ROLES,
    "card.resend_confirmation": SUPPORT_ROLES,
    "card.change_language": SUPPORT_ROLES,
    "ticket.view": SUPPORT_ROLES,
    "ticket.open": frozenset({"clerk", "store_manager", "support", "admin"}),
    "ticket.assign": SUPPORT_ROLES,
    "ticket.note": SUPPORT_ROLES,
    "ticket.reply": SUPPORT_ROLES,
    "ticket.move": SUPPORT_ROLES,
    # Not a support action: only an admin changes the catalog.
    "catalog.change_price": frozenset({"admin"}),
}


def may(caller: Caller, action: str) -> bool:
    return caller.kind is CallerKind.staff and caller.role in ROLES.get(action, frozenset())


def require(caller: Caller, action: str) -> None:
    """403 unless ``caller`` is staff whose role may do ``action``."""
    if not may(caller, action):
        raise ForbiddenError(f"Your role may not do {action}")


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
    # The staff foundation's audit log (tulpar.audit.service.record), looked up at run time:
    # it is built alongside this console. Until it exists the record goes to the log.
    try:
        audit_service = importlib.import_module("tulpar.audit.service")
    except ModuleNotFoundError:
        log.warning(
            "audit.unrecorded",
            actor=caller.actor,
            action=action,
            subject=subject,
            reason=reason,
            before=before,
            after=after,
        )
        return
    audit_service.record(
        session, caller, action, subject=subject, reason=reason, before=before, after=after
    )
