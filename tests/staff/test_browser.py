"""Staff sign-in in Debian's Chromium (Playwright): an admin with the TOTP step (enrolment
by QR, the code computed here with pyotp) and a clerk with a password; each page at phone
and tablet size, with no axe-core serious/critical violation, console error or request to
another host."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.browser.conftest import Tab, browser, new_tab, site  # noqa: F401 - fixtures
from tests.staff.conftest import PASSWORD, make_store, make_user


@pytest.fixture
def people(committed: sessionmaker[Session]) -> dict[str, str]:
    with committed() as session:
        store = make_store(session, "ALA-01")
        admin = make_user(session, "root", "admin")
        make_user(session, "asel", "clerk", store=store)
        secret = admin.totp_secret
        session.commit()
    assert secret is not None
    return {"admin_secret": secret}


def _sign_in(tab: Tab, username: str) -> None:
    tab.open("/staff/sign-in")
    tab.check(f"staff-sign-in-{username}")
    tab.page.fill("#username", username)
    tab.page.fill("#password", PASSWORD)
    tab.page.click("button[type=submit]")


def test_an_admin_signs_in_with_the_authenticator_code(
    new_tab: Callable[..., Tab],  # noqa: F811 - the fixture imported above
    people: dict[str, str],
) -> None:
    tab = new_tab(locale="en-GB")
    _sign_in(tab, "root")
    tab.page.wait_for_url("**/staff/second-factor")
    assert tab.page.locator("figure.qr svg").count() == 1  # enrolment: the QR code
    assert tab.page.locator(".totp-secret").inner_text() == people["admin_secret"]
    tab.check("staff-enrol")
    tab.page.fill("#code", "000000")
    tab.page.click("form[action='/staff/second-factor'] button")
    assert tab.page.locator("#code-error").is_visible()
    # The refusal is answered with 401, which Chromium logs; nothing else may be.
    assert [error for error in tab.errors if "401" not in error] == []
    tab.errors.clear()
    tab.page.fill("#code", pyotp.TOTP(people["admin_secret"]).now())
    tab.page.click("form[action='/staff/second-factor'] button")
    tab.page.wait_for_url("**/staff/")
    assert tab.page.locator("a[href='/support/']").count() == 1
    assert tab.page.locator("a[href='/staff/audit']").count() == 1
    tab.check("staff-home-admin")
    tab.open("/staff/audit")
    assert tab.page.locator("[data-action='staff.sign_in']").count() == 1
    tab.page.set_viewport_size({"width": 1024, "height": 768})  # a tablet, landscape
    tab.check("staff-audit-tablet")


def test_a_clerk_signs_in_with_a_password_and_out_again(
    new_tab: Callable[..., Tab],  # noqa: F811 - the fixture imported above
    people: dict[str, str],
) -> None:
    tab = new_tab(locale="ru-RU")
    _sign_in(tab, "asel")
    tab.page.wait_for_url("**/staff/")
    assert tab.page.locator("a[href='/store/']").count() == 1
    assert tab.page.locator("a[href='/support/']").count() == 0
    tab.check("staff-home-clerk")
    tab.page.click("footer form button")
    tab.page.wait_for_url("**/staff/sign-in")
    tab.open("/staff/")
    tab.page.wait_for_url("**/staff/sign-in")
