"""The support console's rows of the role matrix: every role against every action."""

from __future__ import annotations

import pytest

from tests.support_console.conftest import ROLES, staff
from tulpar.auth import service as auth_service
from tulpar.errors import ForbiddenError
from tulpar.support import access

ALLOWED = {
    "support": set(access.ROLES) - {"catalog.change_price"},
    "admin": set(access.ROLES),
    "clerk": {"ticket.open"},
    "store_manager": {"ticket.open"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(access.ROLES))
def test_role_against_action(role: str, action: str) -> None:
    caller = staff(role)
    if action in ALLOWED[role]:
        access.require(caller, action)
    else:
        with pytest.raises(ForbiddenError):
            access.require(caller, action)


def test_support_cannot_change_a_plans_price() -> None:
    assert not access.may(staff("support"), "catalog.change_price")


@pytest.mark.parametrize("action", sorted(access.ROLES))
def test_a_traveller_may_do_none_of_it(action: str) -> None:
    assert not access.may(auth_service.traveller(1), action)
