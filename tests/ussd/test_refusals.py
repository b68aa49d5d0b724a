"""Refusals end politely (an END screen in the card's language, or Chinese), never a 500, and
change nothing; an unknown number learns only that it has no Tulpar plan."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card
from tests.ussd.conftest import (
    AT_PATH,
    AtGateway,
    JsonGateway,
    create_ussd_card,
    create_ussd_plans,
    written,
)
from tulpar.models import CardState
from tulpar.ussd import facts
from tulpar.ussd.settings import get_ussd_settings


class TestWhoIsDialling:
    @pytest.mark.parametrize("phone", ["+77019999999", "not a number", "+8613800138000"])
    def test_an_unknown_number_has_no_tulpar_plan(
        self, client: TestClient, session: Session, phone: str
    ) -> None:
        create_ussd_card(session, plan=create_ussd_plans(session)[0])
        session.commit()
        before = written(session)

        assert AtGateway(client, phone).dial() == "END 本号码没有Tulpar套餐。"
        assert JsonGateway(client, phone).send("1") == {
            "text": "本号码没有Tulpar套餐。",
            "end": True,
        }
        assert written(session) == before

    @pytest.mark.parametrize(
        ("state", "language", "answer"),
        [
            (CardState.terminated, "en", "END This card has ended and its number was recycled."),
            (CardState.suspended, "ru", "END Карта приостановлена."),
        ],
    )
    def test_a_card_that_cannot_be_served_is_told_why_in_its_language(
        self, client: TestClient, session: Session, state: CardState, language: str, answer: str
    ) -> None:
        card = create_card(session, state=state, language=language)
        session.commit()
        assert card.msisdn is not None
        before = written(session)

        assert AtGateway(client, card.msisdn).dial().startswith(answer)
        assert written(session) == before


class TestWhatIsSent:
    def test_an_unknown_service_code_is_not_ours(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_ussd_card(session, plan=create_ussd_plans(session)[0], language="en")
        session.commit()
        assert card.msisdn is not None
        before = written(session)

        answer = AtGateway(client, card.msisdn, service_code="*555#").dial()

        assert answer == "END Tulpar answers on *100#. Please dial *100#."
        assert written(session) == before

    def test_the_service_codes_are_configurable(
        self, client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        card = create_ussd_card(session, plan=create_ussd_plans(session)[0], language="en")
        session.commit()
        assert card.msisdn is not None
        monkeypatch.setenv("TULPAR_USSD_SERVICE_CODES", "*100#,*707#")
        get_ussd_settings.cache_clear()
        try:
            answer = AtGateway(client, card.msisdn, service_code="*707#").dial()
        finally:
            monkeypatch.undo()
            get_ussd_settings.cache_clear()

        assert answer.startswith("CON Valid until ")

    @pytest.mark.parametrize(
        "text",
        ["1*abc", "1*" + "1" * 7, "*".join(["1", "00"] * 60), "1#", "1*1 OR 1=1", "１"],
    )
    def test_malformed_or_overlong_input_ends_and_changes_nothing(
        self, client: TestClient, session: Session, text: str
    ) -> None:
        card = create_ussd_card(session, plan=create_ussd_plans(session)[0], language="en")
        session.commit()
        assert card.msisdn is not None
        gateway = AtGateway(client, card.msisdn)
        gateway.dial()
        before = written(session)

        answer = gateway.send_text(text)

        assert answer == "END Sorry, we did not understand that. Please dial *100# again."
        assert written(session) == before

    @pytest.mark.parametrize(
        "form",
        [
            {},
            {"sessionId": "s", "serviceCode": "*100#", "text": ""},
            {"sessionId": "x" * 101, "serviceCode": "*100#", "phoneNumber": "+77010000001"},
            {"sessionId": "s", "serviceCode": "*100#", "phoneNumber": "+7701", "text": "1" * 501},
        ],
    )
    def test_a_malformed_gateway_request_gets_an_end_screen(
        self, client: TestClient, session: Session, form: dict[str, str]
    ) -> None:
        before = written(session)

        response = client.post(AT_PATH, data=form)

        assert response.status_code == 200
        assert response.text == "END 抱歉，无法识别您的输入。请重新拨打*100#。"
        assert written(session) == before

    def test_a_malformed_json_request_gets_an_end_screen(self, client: TestClient) -> None:
        response = client.post("/v1/ussd/json", json={"session_id": "s"})

        assert response.status_code == 200
        assert response.json() == {"text": "抱歉，无法识别您的输入。请重新拨打*100#。", "end": True}

    def test_an_input_for_a_dialogue_we_do_not_know_has_ended(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_ussd_card(session, plan=create_ussd_plans(session)[0], language="en")
        session.commit()
        assert card.msisdn is not None

        answer = AtGateway(client, card.msisdn, session_id="never-dialled").send_text("1*1")

        assert answer == "END This session has ended. Please dial *100# again."


class TestWithinTheMenu:
    def test_an_invalid_choice_shows_the_screen_again_with_a_notice(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_ussd_card(session, plan=create_ussd_plans(session)[0], language="en")
        session.commit()
        assert card.msisdn is not None
        gateway = AtGateway(client, card.msisdn)
        home = gateway.dial()

        again = gateway.press("7")
        listing = gateway.press("1")

        assert again == "CON Invalid choice.\n" + home.removeprefix("CON ")
        assert listing.startswith("CON Choose a plan:")

    def test_an_unexpected_failure_is_a_screen_not_a_500(
        self,
        client: TestClient,
        session: Session,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        card = create_ussd_card(session, plan=create_ussd_plans(session)[0], language="en")
        session.commit()
        assert card.msisdn is not None
        before = written(session)

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("database went away")

        monkeypatch.setattr(facts, "balance", broken)
        answer = AtGateway(client, card.msisdn).dial()

        # What failed is not known after the rollback, so neither is the card: Chinese.
        assert answer == "END 系统繁忙，请稍后再试。"
        assert written(session) == before
