"""The authorisation rules every channel shares, on the one caller type."""

from __future__ import annotations

import pytest

from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller, CallerKind
from tulpar.errors import ForbiddenError
from tulpar.models import Channel

PARTNER = Caller(
    kind=CallerKind.partner,
    actor="partner:A",
    channel=Channel.api,
    scopes=frozenset({"partner"}),
    partner_id=7,
)
CARRIER = Caller(
    kind=CallerKind.carrier,
    actor="carrier:C",
    channel=Channel.api,
    scopes=frozenset({"carrier"}),
    partner_id=8,
)
CLERK = Caller(
    kind=CallerKind.staff, actor="staff:aigerim", channel=Channel.store, staff_id=3, role="clerk"
)
TRAVELLER = auth_service.traveller(42)


def test_each_kind_of_caller_scopes_its_idempotency_keys_apart() -> None:
    assert [caller.key for caller in (PARTNER, CARRIER, CLERK, TRAVELLER)] == [
        "partner:7",
        "carrier:8",
        "staff:3",
        "card:42",
    ]


SUPPORT = Caller(
    kind=CallerKind.staff, actor="staff:dana", channel=Channel.api, staff_id=4, role="support"
)


def test_partners_travellers_and_the_counter_may_buy() -> None:
    auth_service.ensure_may_buy(PARTNER)
    auth_service.ensure_may_buy(TRAVELLER)
    auth_service.ensure_may_buy(CLERK)  # sells at the store's counter (store.sell)
    for refused in (CARRIER, SUPPORT):
        with pytest.raises(ForbiddenError):
            auth_service.ensure_may_buy(refused)


def test_a_role_requirement_admits_only_staff_with_that_role() -> None:
    auth_service.require_role(CLERK, "clerk", "store_manager")
    with pytest.raises(ForbiddenError, match="support or admin"):
        auth_service.require_role(CLERK, "support", "admin")
    with pytest.raises(ForbiddenError):
        auth_service.require_role(PARTNER, "clerk")


def test_scopes_belong_to_api_keys_only() -> None:
    auth_service.require_scope(PARTNER, "partner")
    for refused in (CARRIER, TRAVELLER, CLERK):
        with pytest.raises(ForbiddenError):
            auth_service.require_scope(refused, "partner")
