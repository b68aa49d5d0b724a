"""The traveller pages' defences: cookie flags, CSRF on every form, OTP limits told in the
traveller's language, and nothing of another card reachable by guessing its URL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.web_pages.conftest import hidden_fields, latest_code, sign_in, submit
from tulpar import clock
from tulpar.app import create_app
from tulpar.auth import service as auth_service
from tulpar.fulfilment import checkout
from tulpar.models import Notification, Order, OrderKind, PaymentProviderName, Ticket
from tulpar.order.checkout import OrderRequest
from tulpar.receipt import service as receipt_service
from tulpar.receipt.service import ReceiptLine
from tulpar.support import service as support_service


def _set_cookie_headers(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


class TestSessionCookie:
    def test_the_session_cookie_is_httponly_and_samesite(
        self, pages: TestClient, session: Session
    ) -> None:
        card, _ = create_active_card(session)
        session.commit()
        submit(pages, "/", "/code", card=card.iccid)
        verified = submit(pages, "/code", "/code/verify", code=latest_code(session, card.id))

        assert verified.status_code == 303
        cookie = _set_cookie_headers(verified)["tulpar_session"]
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain http in this test
        assert pages.get("/card").status_code == 200

    def test_over_https_every_cookie_is_secure(self, session_factory, session: Session) -> None:
        card, _ = create_active_card(session)
        session.commit()
        with TestClient(
            create_app(session_factory), base_url="https://tulpar.test", follow_redirects=False
        ) as client:
            start = client.get("/")
            submit(client, "/", "/code", card=card.iccid)
            verified = submit(client, "/code", "/code/verify", code=latest_code(session, card.id))

        assert "Secure" in _set_cookie_headers(start)["tulpar_csrf"]
        assert "Secure" in _set_cookie_headers(verified)["tulpar_session"]

    def test_a_partner_key_in_the_cookie_is_no_traveller_session(
        self, pages: TestClient, partner_key: str
    ) -> None:
        pages.cookies.set("tulpar_session", partner_key)

        answer = pages.get("/card")

        assert (answer.status_code, answer.headers["location"]) == (303, "/?ended=1")

    def test_signing_out_ends_the_session(self, pages: TestClient, session: Session) -> None:
        card, _ = create_active_card(session)
        sign_in(pages, session, card)

        token = pages.cookies.get("tulpar_session")
        assert token is not None

        signed_out = submit(pages, "/card", "/sign-out")

        assert "tulpar_session=" in _set_cookie_headers(signed_out)["tulpar_session"]
        assert "Max-Age=0" in _set_cookie_headers(signed_out)["tulpar_session"]
        # A copy of the cookie is worth nothing afterwards, on the pages and on the API.
        pages.cookies.set("tulpar_session", token)
        assert pages.get("/card").status_code == 303
        balance = pages.get(
            f"/v1/cards/{card.iccid}/balance", headers={"Authorization": f"Bearer {token}"}
        )
        assert balance.status_code == 401


class TestCsrf:
    @pytest.mark.parametrize(
        "action", ["/code", "/code/verify", "/code/resend", "/orders", "/help/tickets"]
    )
    def test_a_form_without_the_token_is_refused_and_changes_nothing(
        self, pages: TestClient, session: Session, action: str
    ) -> None:
        card, _ = create_active_card(session)
        sign_in(pages, session, card)
        before = _counts(session)

        refused = pages.post(action, data={"card": card.iccid, "message": "hi", "plan": "X"})

        assert refused.status_code == 403
        assert "此表单已失效" in refused.text
        assert _counts(session) == before

    def test_a_token_from_another_browser_is_refused(
        self, pages: TestClient, session: Session
    ) -> None:
        card, _ = create_active_card(session)
        session.commit()
        foreign = hidden_fields(pages.get("/").text, "/code")
        pages.cookies.clear()
        pages.get("/")  # this browser's own token

        refused = pages.post("/code", data={**foreign, "card": card.iccid})

        assert refused.status_code == 403

    def test_a_cross_site_post_is_refused_even_with_the_token(
        self, pages: TestClient, session: Session
    ) -> None:
        card, _ = create_active_card(session)
        session.commit()
        fields = hidden_fields(pages.get("/").text, "/code")

        refused = pages.post(
            "/code",
            data={**fields, "card": card.iccid},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )

        assert refused.status_code == 403
        assert _counts(session)["sms"] == 0


class TestOtpLimits:
    def test_asking_again_within_a_minute_says_how_long_to_wait(
        self, pages: TestClient, session: Session
    ) -> None:
        card, _ = create_active_card(session)
        session.commit()
        submit(pages, "/?lang=ru", "/code", card=card.iccid)

        again = submit(pages, "/code", "/code/resend")

        assert again.status_code == 429
        assert "Код только что отправлен. Новый можно запросить через" in again.text
        assert session.scalar(select(func.count()).select_from(Notification)) == 1

    def test_the_hourly_cap_is_told_in_the_travellers_language(
        self, pages: TestClient, session: Session, configure: Callable[..., None]
    ) -> None:
        configure(otp_hourly_cap_per_card=1)
        card, _ = create_active_card(session)
        session.commit()
        submit(pages, "/?lang=kk", "/code", card=card.iccid)
        pages.cookies.delete("tulpar_otp")

        with clock.frozen(clock.now() + timedelta(minutes=2)):
            capped = submit(pages, "/", "/code", card=card.iccid)

        assert capped.status_code == 429
        assert "Код тым көп сұралды." in capped.text

    def test_five_wrong_codes_lock_the_challenge_with_a_clear_message(
        self, pages: TestClient, session: Session
    ) -> None:
        card, _ = create_active_card(session)
        session.commit()
        submit(pages, "/", "/code", card=card.iccid)
        right = latest_code(session, card.id)
        wrong = "000000" if right != "000000" else "111111"

        answers = [submit(pages, "/code", "/code/verify", code=wrong) for _ in range(5)]
        after = submit(pages, "/code", "/code/verify", code=right)

        assert [answer.status_code for answer in answers] == [400, 400, 400, 400, 400]
        assert "剩余尝试次数：4。" in answers[0].text
        assert "剩余尝试次数：0。" in answers[4].text
        assert after.status_code == 429
        assert "错误次数过多，请重新获取验证码。" in after.text
        assert "tulpar_session" not in pages.cookies

    def test_an_unknown_card_gets_the_same_pages_as_a_real_one(
        self, pages: TestClient, session: Session
    ) -> None:
        asked = submit(pages, "/", "/code", card="+7 701 999 0000")
        code_page = pages.get("/code")
        wrong = submit(pages, "/code", "/code/verify", code="123456")

        assert (asked.status_code, asked.headers["location"]) == (303, "/code")
        assert "如果 +7701•••000 是我们的卡" in code_page.text
        assert wrong.status_code == 400
        assert "验证码错误或已过期。" in wrong.text

    def test_text_that_is_no_card_number_is_explained(self, pages: TestClient) -> None:
        answer = submit(pages, "/?lang=en", "/code", card="hello")

        assert answer.status_code == 422
        assert "Enter the card&#39;s ICCID" in answer.text
        assert 'value="hello"' in answer.text


class TestOtherCards:
    def test_another_cards_order_receipt_and_ticket_are_not_found(
        self, pages: TestClient, session: Session
    ) -> None:
        plan = create_plan(session)
        mine, _ = create_active_card(session, plan=plan)
        theirs, _ = create_active_card(session, plan=plan)
        their_caller = auth_service.traveller(theirs.id)
        placed = checkout.place(
            session,
            their_caller,
            OrderRequest(
                card=theirs.iccid,
                kind=OrderKind.plan_renewal,
                plan=plan.code,
                amount_minor=None,
                currency="KZT",
                payment_provider=PaymentProviderName.sandbox,
                promo_code=None,
            ),
        )
        receipt_service.issue(
            session,
            issuer="WEB",
            card_id=theirs.id,
            order_id=placed.order.id,
            lines=[ReceiptLine("Test", 1, 100)],
            payment_method="sandbox",
            currency="KZT",
        )
        ticket = support_service.ask(
            session, their_caller, message="Where is my plan?", order_id=placed.order.id
        )
        sign_in(pages, session, mine)

        for url in (
            f"/orders/{placed.order.id}",
            f"/orders/{placed.order.id}/progress",
            f"/orders/{placed.order.id}/receipt",
            f"/orders/{placed.order.id}/receipt.pdf",
            f"/help/tickets/{ticket.id}",
            "/orders/999999",
            "/help/tickets/999999",
        ):
            answer = pages.get(url)
            assert answer.status_code == 404, url
            assert "Where is my plan?" not in answer.text
        fields = hidden_fields(pages.get("/help").text, "/help/tickets")
        asked = pages.post(
            "/help/tickets", data={**fields, "order": str(placed.order.id), "message": "x"}
        )
        assert asked.status_code == 404
        assert _counts(session)["tickets"] == 1


def _counts(session: Session) -> dict[str, int]:
    def count(model: type) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return {"sms": count(Notification), "orders": count(Order), "tickets": count(Ticket)}


def test_asking_from_a_second_browser_within_the_cooldown_goes_to_the_code_page(
    session_factory, session: Session
) -> None:
    card, _ = create_active_card(session)
    session.commit()
    app = create_app(session_factory)
    with (
        TestClient(app, follow_redirects=False) as first,
        TestClient(app, follow_redirects=False) as second,
    ):
        submit(first, "/", "/code", card=card.iccid)
        asked = submit(second, "/", "/code", card=card.iccid)
        code_page = second.get("/code")

    assert (asked.status_code, asked.headers["location"]) == (303, "/code")
    assert code_page.status_code == 200
    assert 'data-cooldown="' in code_page.text
    assert 'data-cooldown="0"' not in code_page.text
    assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_mistyped_address_is_a_page_not_problem_json(pages: TestClient, session: Session) -> None:
    card, _ = create_active_card(session)
    sign_in(pages, session, card)

    for path in ("/orders/abc", "/orders/0", "/plans/%3Cscript%3E", "/help/tickets/-1"):
        answer = pages.get(path + "?lang=ru")
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Такой страницы нет." in answer.text
