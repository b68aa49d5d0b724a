"""Each traveller page shows what the brief promises: my card's state, countdown, bars and
the call to renew; plans with their quote; paying again after a decline; the order's
progress and what happens after a failure; receipts and help."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card, create_plan
from tests.fixtures.payments import report_payment
from tests.web_pages.conftest import hidden_fields, sign_in, submit
from tulpar import clock
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import DATA
from tulpar.integrations.payments.protocol import ProviderPayment, ProviderStatus
from tulpar.kit.format import GB, local_time
from tulpar.models import (
    CardState,
    Channel,
    LedgerCause,
    Order,
    OrderState,
    Payment,
    RenewalPolicy,
    Ticket,
    TicketKind,
)
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.support import service as support_service

# Pages render in English here so the assertions read plainly.
EN = "?lang=en"


class TestMyCard:
    def test_a_fresh_plan_shows_validity_countdown_and_bars(
        self, pages: TestClient, session: Session
    ) -> None:
        plan = create_plan(session, validity_days=7, data_bytes=5 * GB, sms_count=None)
        card, bundle = create_active_card(session, plan=plan, days_ago=1)
        sign_in(pages, session, card)

        page = pages.get("/card" + EN).text

        assert "Active" in page
        assert f"Valid until {local_time(bundle.expires_at)}" in page
        assert "Ends in 6 days" in page
        assert "5 GB of 5 GB left" in page
        assert "60 min of 60 min left" in page
        assert page.count("<meter") == 2  # unlimited SMS has no bar
        assert "Unlimited" in page
        assert "Time to renew" not in page
        assert "See plans and renew" in page
        assert "No usage recorded yet." in page

    def test_under_72_hours_left_calls_to_renew(self, pages: TestClient, session: Session) -> None:
        plan = create_plan(session, validity_days=7)
        card, _ = create_active_card(session, plan=plan, days_ago=5)
        sign_in(pages, session, card)

        page = pages.get("/card" + EN).text

        assert "Ends in 2 days" in page
        assert "Time to renew" in page
        assert 'href="/plans">Renew now' in page

    def test_under_a_quarter_of_the_data_calls_to_renew(
        self, pages: TestClient, session: Session
    ) -> None:
        plan = create_plan(session, validity_days=30, data_bytes=4 * GB)
        card, bundle = create_active_card(session, plan=plan)
        bundle_service.adjust(
            session,
            bundle,
            DATA,
            delta=-int(3.2 * GB),
            cause=LedgerCause.usage,
            actor="t",
            reason="t",
        )
        sign_in(pages, session, card)

        page = pages.get("/card" + EN).text

        assert "819.2 MB of 4 GB left" in page
        assert "Time to renew" in page

    def test_an_expired_card_in_its_grace_period_is_offered_renewal(
        self, pages: TestClient, session: Session
    ) -> None:
        plan = create_plan(session, validity_days=7)
        card, bundle = create_active_card(session, plan=plan, days_ago=10)
        sign_in(pages, session, card)

        page = pages.get("/card" + EN).text

        assert "Expired" in page
        assert f"Ended on {local_time(bundle.expires_at)}" in page
        assert local_time(bundle.expires_at + timedelta(days=30)) in page
        assert "Renew within the grace period" in page

    def test_a_terminated_card_explains_the_recycled_number(
        self, pages: TestClient, session: Session
    ) -> None:
        # Signed in a minute before the grace period ends (a session lasts 30 minutes).
        plan = create_plan(session, validity_days=7)
        card, _ = create_active_card(session, plan=plan, days_ago=37 - 1 / 1440)
        sign_in(pages, session, card)

        with clock.frozen(clock.now() + timedelta(minutes=2)):
            page = pages.get("/card" + EN).text
            plans = pages.get("/plans" + EN).text

        assert "This number was recycled" in page
        assert "get a new eSIM" in page
        assert "Renew now" not in page
        assert "This card cannot be renewed." in plans

    def test_queued_plans_are_shown_as_queued(self, pages: TestClient, session: Session) -> None:
        now_plan = create_plan(session, validity_days=7)
        later = create_plan(session, code="LATER-7D", renewal_policy=RenewalPolicy.queue)
        card, first = create_active_card(session, plan=now_plan)
        queued = bundle_service.apply_plan(
            session, card, later, cause=LedgerCause.manual_credit, actor="t", reason="t"
        )
        sign_in(pages, session, card)

        page = pages.get("/card" + EN).text

        assert "Queued plans" in page
        assert (
            f"Test, queued: from {local_time(queued.starts_at)} to {local_time(queued.expires_at)}"
            in page
        )
        assert queued.starts_at == first.expires_at

    def test_a_card_without_a_plan_is_asked_to_choose_one(
        self, pages: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.issued)
        sign_in(pages, session, card)

        page = pages.get("/card" + EN).text

        assert "No plan yet." in page
        assert "Renew now" in page


class TestPlans:
    def test_only_web_plans_with_their_quote(self, pages: TestClient, session: Session) -> None:
        plan = create_plan(session, code="NOW-7D", validity_days=7, rollover=True)
        create_plan(session, code="USSD-ONLY", channels=(Channel.ussd,))
        forfeit = create_plan(session, code="LOSE-7D", validity_days=7, rollover=False)
        card, bundle = create_active_card(session, plan=plan, days_ago=2)
        sign_in(pages, session, card)

        page = pages.get("/plans" + EN).text

        assert 'data-plan="NOW-7D"' in page
        assert 'data-plan="LOSE-7D"' in page
        assert "USSD-ONLY" not in page
        assert local_time(bundle.expires_at + timedelta(days=7)) in page
        offers = {
            item.split('"', 1)[0]: item for item in page.split('<li class="plan" data-plan="')[1:]
        }
        now_offer, lose_offer = offers["NOW-7D"], offers["LOSE-7D"]
        assert "5 GB, 60 min, 50 SMS" in now_offer
        assert "You lose what is left of your current plan: 5 GB, 60 min, 50 SMS" in lose_offer
        assert "3,500 KZT" in page
        assert forfeit.code in page

    def test_chinese_prices_show_yuan_alongside(self, pages: TestClient, session: Session) -> None:
        card, _ = create_active_card(session)
        sign_in(pages, session, card)

        page = pages.get("/plans?lang=zh-Hans").text

        assert "3,500 KZT" in page
        assert "约 52 CNY" in page

    def test_a_plan_of_another_channel_is_refused_with_a_page(
        self, pages: TestClient, session: Session
    ) -> None:
        create_plan(session, code="STORE-7D", channels=(Channel.store,))
        card, _ = create_active_card(session)
        sign_in(pages, session, card)

        answer = pages.get("/plans/STORE-7D" + EN)

        assert answer.status_code == 422
        assert "This plan cannot be bought online." in answer.text


def _place(pages: TestClient, code: str) -> tuple[int, str]:
    placed = submit(pages, f"/plans/{code}", "/orders")
    assert placed.status_code == 303
    pay_path = urlsplit(placed.headers["location"]).path
    page = pages.get(pay_path).text
    found = re.search(r'href="/orders/(\d+)\?cancelled=1"', page)
    assert found is not None
    return int(found.group(1)), pay_path


class TestPaying:
    def test_declined_then_paid_again_from_the_order_page(
        self, pages: TestClient, session: Session
    ) -> None:
        plan = create_plan(session, code="PAY-7D")
        card, _ = create_active_card(session, plan=plan)
        sign_in(pages, session, card)
        order_id, pay_path = _place(pages, "PAY-7D")
        assert pages.post(pay_path, data={"decision": "decline"}).status_code == 303
        declined_page = pages.get(pay_path).text
        (payment,) = session.scalars(select(Payment).where(Payment.order_id == order_id))
        report_payment(
            session,
            payment.id,
            ProviderPayment(
                reference=payment.provider_reference or "", status=ProviderStatus.failed
            ),
        )
        session.commit()

        order_page = pages.get(f"/orders/{order_id}" + EN)
        again = pages.post(
            f"/orders/{order_id}/pay",
            data=hidden_fields(order_page.text, f"/orders/{order_id}/pay"),
        )
        repeated = pages.post(
            f"/orders/{order_id}/pay",
            data=hidden_fields(order_page.text, f"/orders/{order_id}/pay"),
        )

        assert "已拒绝 Declined" in declined_page
        assert f'href="/orders/{order_id}"' in declined_page
        assert "The payment was declined. Nothing was charged." in order_page.text
        assert again.status_code == 303
        assert repeated.headers["location"] == again.headers["location"]
        new_pay_path = urlsplit(again.headers["location"]).path
        assert new_pay_path != pay_path
        assert "支付 Pay" in pages.get(new_pay_path).text
        attempts = session.scalars(
            select(Payment.attempt).where(Payment.order_id == order_id).order_by(Payment.id)
        ).all()
        assert list(attempts) == [1, 2]
        assert session.get(Order, order_id).state is OrderState.awaiting_payment  # type: ignore[union-attr]

    def test_leaving_the_pay_page_says_nothing_was_charged(
        self, pages: TestClient, session: Session
    ) -> None:
        plan = create_plan(session, code="LEAVE-7D")
        card, _ = create_active_card(session, plan=plan)
        sign_in(pages, session, card)
        order_id, pay_path = _place(pages, "LEAVE-7D")

        page = pages.get(f"/orders/{order_id}?cancelled=1&lang=en").text

        assert "You left the payment page. Nothing was charged." in page
        assert f'href="http://127.0.0.1:8000{pay_path}"' in page or pay_path in page
        assert 'data-poll="3"' in page
        assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page

    def test_a_failed_provisioning_tells_of_the_refund_and_the_ticket(
        self, pages: TestClient, session: Session
    ) -> None:
        plan = create_plan(session, code="FAIL-7D")
        card, _ = create_active_card(session, plan=plan)
        sign_in(pages, session, card)
        order_id, _ = _place(pages, "FAIL-7D")
        (payment,) = session.scalars(select(Payment).where(Payment.order_id == order_id))
        report_payment(
            session,
            payment.id,
            ProviderPayment(
                reference=payment.provider_reference or "", status=ProviderStatus.succeeded
            ),
        )
        for move in (OrderMove.start_provisioning, OrderMove.fail_provisioning):
            order_service.move(session, order_id, move, actor="test", reason="test")
        ticket = support_service.open_ticket(
            session,
            card_id=card.id,
            order_id=order_id,
            kind=TicketKind.provisioning_failed,
            subject="failed",
            timeline=[],
            opened_by="test",
        )
        assert ticket is not None
        session.commit()

        progress = pages.get(f"/orders/{order_id}/progress" + EN)

        assert progress.headers["x-order-state"] == "provisioning_failed"
        assert "did not accept the plan" in progress.text
        assert "refunded automatically" in progress.text
        assert f"Support request {ticket.id} was opened for you" in progress.text


class TestHelp:
    def test_asking_about_an_order_then_following_the_request(
        self, pages: TestClient, session: Session
    ) -> None:
        plan = create_plan(session, code="HELP-7D")
        card, _ = create_active_card(session, plan=plan)
        sign_in(pages, session, card)
        order_id, _ = _place(pages, "HELP-7D")

        asked = submit(
            pages,
            f"/help?order={order_id}",
            "/help/tickets",
            order=str(order_id),
            message="我的套餐呢？",
        )
        again = submit(pages, "/help", "/help/tickets", order=str(order_id), message="还没到")

        assert asked.status_code == 303
        assert again.headers["location"] == asked.headers["location"]
        ticket_page = pages.get(asked.headers["location"] + EN).text
        assert "我的套餐呢？" in ticket_page
        assert "还没到" in ticket_page
        assert 'State: <span class="state">Open</span>' in ticket_page
        (ticket,) = session.scalars(select(Ticket).where(Ticket.card_id == card.id))
        assert (ticket.kind, ticket.order_id) == (TicketKind.question, order_id)
        assert [entry["kind"] for entry in ticket.timeline][:2] == [
            "traveller_message",
            "order_event",
        ]
        assert f"Request {ticket.id}" in pages.get("/help" + EN).text

    def test_an_empty_question_is_refused(self, pages: TestClient, session: Session) -> None:
        card, _ = create_active_card(session)
        sign_in(pages, session, card)

        answer = submit(pages, "/help", "/help/tickets", message="   ")

        assert answer.status_code == 422
        assert session.scalars(select(Ticket)).all() == []


@pytest.mark.parametrize("path", ["/", "/card", "/plans", "/plans/SIZE-7D", "/receipts", "/help"])
def test_each_page_with_its_stylesheet_and_script_is_under_40_kb(
    pages: TestClient, session: Session, path: str
) -> None:
    plan = create_plan(session, code="SIZE-7D")
    card, _ = create_active_card(session, plan=plan)
    sign_in(pages, session, card)

    html = pages.get(path + "?lang=kk")
    css = pages.get("/static/traveller.css")
    script = pages.get("/static/traveller.js")

    assert (html.status_code, css.status_code, script.status_code) == (200, 200, 200)
    assert len(html.content) + len(css.content) + len(script.content) < 40 * 1024
    assert "http" not in re.sub(r'href="http[^"]*/(pay|verify)/', "", html.text.split("<main")[0])
