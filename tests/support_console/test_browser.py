"""The support console in Debian's Chromium (Playwright): a support user finds a failed
order, refunds it with a reason, and the traveller's SMS is queued in their language with
the refund in the audit log, before and after; a support user answers a traveller's ticket
and the SMS goes out in the traveller's language.

The support user signs in on the staff pages with a password and a TOTP code (pyotp)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.browser.conftest import Tab, browser, new_tab, sign_in, site  # noqa: F401 (fixtures)
from tests.fixtures.factories import create_active_card, create_card, create_plan
from tests.provisioning.conftest import create_paid_order
from tests.support_console.conftest import PASSWORD
from tulpar.auth import service as auth_service
from tulpar.models import (
    AuditEntry,
    Card,
    Notification,
    OrderState,
    Refund,
    StaffUser,
)
from tulpar.staff import service as staff_service
from tulpar.support import service as support_service


@dataclass
class SupportUser:
    user: StaffUser
    secret: str


@pytest.fixture
def support_user(committed: sessionmaker[Session]) -> SupportUser:
    with committed() as session:
        user = staff_service.create_user(
            session,
            auth_service.command_line(),
            username="aigerim",
            password=PASSWORD,
            role="support",
        )
        session.commit()
        assert user.totp_secret is not None
        session.expunge(user)
        return SupportUser(user=user, secret=user.totp_secret)


def sign_in_with_totp(tab: Tab, who: SupportUser) -> None:
    """The staff sign-in pages: username and password, then the TOTP code (pyotp computes
    it from the user's secret, as the phone app would after scanning the QR code)."""
    tab.open("/support")
    tab.page.wait_for_url("**/staff/sign-in")
    tab.page.fill("#username", who.user.username)
    tab.page.fill("#password", PASSWORD)
    tab.page.press("#password", "Enter")
    tab.page.wait_for_url("**/staff/second-factor")
    tab.page.fill("#code", pyotp.TOTP(who.secret).now())
    tab.page.press("#code", "Enter")
    tab.page.wait_for_url(lambda url: not url.endswith("/staff/second-factor"))


def test_support_refunds_a_failed_order_and_the_traveller_is_told(
    committed: sessionmaker[Session],
    new_tab: Callable[..., Tab],  # noqa: F811
    support_user: SupportUser,
) -> None:
    with committed() as session:
        plan = create_plan(session, validity_days=15)
        card, _ = create_active_card(session, plan=plan, language="zh-Hans")
        order = create_paid_order(session, card=card, plan=plan)
        order.state = OrderState.provisioning_failed
        session.commit()
        order_id, iccid = order.id, card.iccid

    tab = new_tab(locale="en-US")
    sign_in_with_totp(tab, support_user)
    tab.open("/support")
    tab.page.fill("#q", iccid)
    tab.page.click("button[type=submit]")
    tab.page.click(f"a[href='/support/orders/{order_id}']")
    assert tab.page.inner_text("#order-state") == "provisioning_failed"
    refund_form = tab.page.locator("section[aria-label=Refund] form")
    refund_form.locator("input[name=reason]").fill("carrier refused the bundle twice")
    refund_form.locator("button").click()
    tab.page.wait_for_url(f"**/support/orders/{order_id}")
    assert tab.page.inner_text("#refundable") == "0 KZT"
    assert tab.errors == []

    with committed() as session:
        refund = session.scalars(select(Refund).where(Refund.order_id == order_id)).one()
        assert (refund.amount_minor, refund.number) == (3_500_00, 1)
        sms = session.scalars(
            select(Notification).where(Notification.template == "refund_issued")
        ).one()
        assert sms.language == "zh-Hans"
        assert sms.body == f"【Tulpar】订单{order_id}的3,500 KZT正在原路退回。"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "order.refund")).one()
        assert entry.staff_id == support_user.user.id
        assert entry.subject == f"order:{order_id}"
        assert entry.reason == "carrier refused the bundle twice"
        assert entry.before == {
            "state": "provisioning_failed",
            "refunded_minor": 0,
            "refundable_minor": 3_500_00,
            "currency": "KZT",
        }
        assert entry.after is not None
        assert (entry.after["refunded_minor"], entry.after["refundable_minor"]) == (3_500_00, 0)


def test_support_replies_to_a_ticket_in_the_travellers_language(
    committed: sessionmaker[Session],
    new_tab: Callable[..., Tab],  # noqa: F811
    support_user: SupportUser,
) -> None:
    with committed() as session:
        card = create_card(session, language="zh-Hans")
        ticket = support_service.ask(
            session, auth_service.traveller(card.id), message="套餐没有生效", order_id=None
        )
        session.commit()
        ticket_id, card_id = ticket.id, card.id

    tab = new_tab(locale="en-US")
    sign_in_with_totp(tab, support_user)
    tab.open("/support/tickets")
    tab.page.click(f"a[href='/support/tickets/{ticket_id}']")
    assert "套餐没有生效" in tab.page.inner_text("ul.messages")
    tab.page.fill("#reply", "已为您重新开通，请重启手机。")
    tab.page.click("text=Send reply")
    tab.page.wait_for_url(f"**/support/tickets/{ticket_id}")
    assert tab.page.inner_text("#ticket-status") == "pending"
    assert "SMS in zh-Hans" in tab.page.inner_text("ol.entries")
    assert tab.errors == []

    with committed() as session:
        sms = session.scalars(
            select(Notification).where(Notification.template == "support_reply")
        ).one()
        assert sms.language == "zh-Hans"
        assert sms.body == f"【Tulpar客服】（工单{ticket_id}）：已为您重新开通，请重启手机。"

    # The traveller also reads the answer on their request's page, in their language.
    traveller = new_tab(locale="zh-CN")
    with committed() as session:
        traveller_card = session.get(Card, card_id)
        assert traveller_card is not None
        sign_in(traveller, session, traveller_card)
    traveller.open(f"/help/tickets/{ticket_id}")
    assert "客服回复： 已为您重新开通，请重启手机。" in traveller.page.inner_text(
        "blockquote.reply"
    )
    traveller.check("support-reply-zh")
