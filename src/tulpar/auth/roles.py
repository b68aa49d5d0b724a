"""Who may do what among the operator's staff: one table of action → roles, decided on the
:class:`Caller` in the service layer, so a page, a test and a command get the same answer.

Roles (``staff_users.role``):

==============  ==================================================================
clerk           their own store's sales only
store_manager   their store's staff, reports and day close
support         all cards and orders, refunds, manual credits, tickets
admin           everything, including catalog, promotions, stores and staff
==============  ==================================================================

Consoles add their rows to :data:`ROLES_FOR` (``store.*`` for the store console, ``order.*``,
``card.*``, ``ticket.*`` for the support console). An action missing from the table is
refused to everyone.
"""

from __future__ import annotations

from tulpar.auth.identity import Caller, CallerKind
from tulpar.errors import ForbiddenError, TulparError

CLERK = "clerk"
STORE_MANAGER = "store_manager"
SUPPORT = "support"
ADMIN = "admin"
ALL_ROLES = frozenset({CLERK, STORE_MANAGER, SUPPORT, ADMIN})
# Roles bound to one store: everything they touch must belong to it (ensure_same_store).
STORE_BOUND_ROLES = frozenset({CLERK, STORE_MANAGER})

ROLES_FOR: dict[str, frozenset[str]] = {
    # The staff pages themselves.
    "staff.home": ALL_ROLES,
    # Staff accounts: an admin manages everyone; a store manager only their own store's
    # clerks and managers (enforced with ensure_same_store and STORE_BOUND_ROLES).
    "users.list": frozenset({STORE_MANAGER, ADMIN}),
    "users.create": frozenset({STORE_MANAGER, ADMIN}),
    "users.disable": frozenset({STORE_MANAGER, ADMIN}),
    "users.revoke_sessions": frozenset({STORE_MANAGER, ADMIN}),
    # Stores: read by everyone signed in (a clerk sees their own); created by an admin.
    "stores.list": frozenset({ADMIN}),
    "stores.view": ALL_ROLES,
    "stores.create": frozenset({ADMIN}),
    # The audit log: read-only, and only for the operator's own people.
    "audit.read": frozenset({SUPPORT, ADMIN}),
    # Support console (tulpar.fulfilment.support_actions, tulpar.support.tickets).
    "order.search": frozenset({SUPPORT, ADMIN}),
    "order.view": frozenset({SUPPORT, ADMIN}),
    "order.retry_provisioning": frozenset({SUPPORT, ADMIN}),
    "order.refund": frozenset({SUPPORT, ADMIN}),
    "order.cancel": frozenset({SUPPORT, ADMIN}),
    "card.view": frozenset({SUPPORT, ADMIN}),
    "card.credit_wallet": frozenset({SUPPORT, ADMIN}),
    "card.adjust_allowance": frozenset({SUPPORT, ADMIN}),
    "card.suspend": frozenset({SUPPORT, ADMIN}),
    "card.unsuspend": frozenset({SUPPORT, ADMIN}),
    "card.resend_confirmation": frozenset({SUPPORT, ADMIN}),
    "card.change_language": frozenset({SUPPORT, ADMIN}),
    "ticket.view": frozenset({SUPPORT, ADMIN}),
    "ticket.open": ALL_ROLES,
    "ticket.assign": frozenset({SUPPORT, ADMIN}),
    "ticket.note": frozenset({SUPPORT, ADMIN}),
    "ticket.reply": frozenset({SUPPORT, ADMIN}),
    "ticket.move": frozenset({SUPPORT, ADMIN}),
    # Store console (tulpar.counter, tulpar.fulfilment.store_sale): selling at the counter is
    # a store role's (its own store; support and admin sell on no counter); receipts and days
    # are the store's (ensure_same_store), read by support and admin across stores.
    "card.lookup": frozenset({CLERK, STORE_MANAGER, SUPPORT, ADMIN}),
    "store.sell": frozenset({CLERK, STORE_MANAGER}),
    "store.receipt": ALL_ROLES,
    "store.day_view": ALL_ROLES,
    "store.day_close": frozenset({CLERK, STORE_MANAGER}),
    "store.day_close_store": frozenset({STORE_MANAGER}),
    "store.day_reopen": frozenset({STORE_MANAGER, ADMIN}),
    # Repricing a plan is the catalog's, an admin's alone: support never does it.
    "catalog.change_price": frozenset({ADMIN}),
    # Back office (tulpar.web.backoffice): the catalog, promotions and partner webhooks are
    # the operator's admins'; reports are read by admins and support.
    "catalog.view": frozenset({ADMIN}),
    "catalog.edit": frozenset({ADMIN}),
    "promotions.view": frozenset({ADMIN}),
    "promotions.edit": frozenset({ADMIN}),
    "reports.view": frozenset({SUPPORT, ADMIN}),
    "webhooks.view": frozenset({SUPPORT, ADMIN}),
    "webhooks.replay": frozenset({ADMIN}),
}


class NotFoundError(TulparError):
    """Something that does not exist, or that this caller may not know exists (another
    store's receipt, user, day): the two answers are the same."""

    status = 404
    code = "not_found"
    title = "Not found"


def may(caller: Caller, action: str) -> bool:
    """Whether ``caller`` is staff whose role may do ``action`` (see :data:`ROLES_FOR`)."""
    return caller.kind is CallerKind.staff and caller.role in ROLES_FOR.get(action, frozenset())


def require(caller: Caller, action: str) -> None:
    """403 unless ``caller`` is staff whose role may do ``action``."""
    if not may(caller, action):
        raise ForbiddenError(f"Your role may not do {action}")


def ensure_same_store(caller: Caller, store_id: int | None) -> None:
    """A clerk or store manager acts only within their own store: anything of another store
    (or of none) is "not found" (404), exactly as if it did not exist. Support and admin
    span all stores; non-staff callers are refused outright (403)."""
    if caller.kind is not CallerKind.staff:
        raise ForbiddenError("This needs a staff sign-in")
    if caller.role in STORE_BOUND_ROLES and (
        caller.store_id is None or store_id != caller.store_id
    ):
        raise NotFoundError()
