"""A partner sees and renews only the cards it sold or was assigned (issue 12, defect 12);
every other card is "not found", word for word as an unknown one."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan, make_iccid
from tests.fixtures.payments import traveller_headers
from tulpar.auth import service as auth_service
from tulpar.balance import service as balance_service
from tulpar.models import Card, IdempotencyKey, Order, OrderEvent, Payment
from tulpar.partner import service as partner_service


def _key(session: Session, name: str) -> tuple[int, dict[str, str]]:
    partner, key = partner_service.create_key(session, name, scopes=["partner"])
    return partner.id, {"Authorization": f"Bearer {key}"}


def _sold_by(session: Session, name: str) -> tuple[Card, dict[str, str]]:
    partner_id, headers = _key(session, name)
    card, _ = create_active_card(session, partner_id=partner_id)
    return card, headers


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _no_order_written(session: Session) -> None:
    for model in (Order, OrderEvent, Payment, IdempotencyKey):
        assert _count(session, model) == 0, model


def _without_instance(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != "instance"}


class TestReadingABalance:
    def test_the_partner_that_sold_a_card_reads_it_and_another_gets_not_found(
        self, client: TestClient, session: Session
    ) -> None:
        card, seller = _sold_by(session, "Seller")
        _, stranger = _key(session, "Stranger")
        session.commit()

        assert client.get(f"/v1/cards/{card.iccid}/balance", headers=seller).status_code == 200
        theirs = client.get(f"/v1/cards/{card.iccid}/balance", headers=stranger)
        by_phone = client.get(f"/v1/cards/{card.msisdn}/balance", headers=stranger)
        unknown = client.get(f"/v1/cards/{make_iccid(424_242)}/balance", headers=stranger)

        assert theirs.status_code == by_phone.status_code == unknown.status_code == 404
        assert _without_instance(theirs.json()) == _without_instance(unknown.json())
        assert _without_instance(by_phone.json()) == _without_instance(unknown.json())
        assert theirs.headers["content-type"] == unknown.headers["content-type"]

    def test_a_card_sold_by_nobody_is_read_by_no_partner(
        self, client: TestClient, session: Session
    ) -> None:
        card, _ = create_active_card(session)
        _, partner = _key(session, "Any")
        session.commit()

        answer = client.get(f"/v1/cards/{card.iccid}/balance", headers=partner)

        assert answer.status_code == 404
        assert answer.json()["code"] == "card_not_found"

    def test_the_operator_and_the_traveller_keep_their_access(
        self, client: TestClient, session: Session
    ) -> None:
        card, _ = _sold_by(session, "Seller")
        traveller = traveller_headers(session, card)
        session.commit()

        mine = client.get(f"/v1/cards/{card.iccid}/balance", headers=traveller)
        operator = balance_service.balance_for(session, auth_service.command_line(), card.iccid)

        assert mine.status_code == 200
        assert operator.iccid == mine.json()["iccid"] == card.iccid


class TestRenewing:
    def test_another_partner_can_neither_quote_nor_order_the_card(
        self, client: TestClient, session: Session
    ) -> None:
        card, _ = _sold_by(session, "Seller")
        create_plan(session, code="P")
        _, stranger = _key(session, "Stranger")
        session.commit()

        quote = client.get(f"/v1/cards/{card.iccid}/quote?plan=P", headers=stranger)
        order = client.post(
            "/v1/orders",
            json={"card": card.iccid, "plan": "P"},
            headers={**stranger, "Idempotency-Key": "k1"},
        )

        assert quote.status_code == order.status_code == 404
        assert quote.json()["code"] == order.json()["code"] == "card_not_found"
        _no_order_written(session)

    def test_the_seller_orders_its_card(self, client: TestClient, session: Session) -> None:
        card, seller = _sold_by(session, "Seller")
        create_plan(session, code="P")
        session.commit()

        order = client.post(
            "/v1/orders",
            json={"card": card.iccid, "plan": "P"},
            headers={**seller, "Idempotency-Key": "k1"},
        )

        assert order.status_code == 201, order.text
        assert _count(session, Order) == 1


class TestAssigning:
    def test_assigning_gives_a_partner_cards_nobody_held(self, session: Session) -> None:
        one, _ = create_active_card(session)
        two, _ = create_active_card(session)
        partner_id, _ = _key(session, "Seller")

        result = partner_service.assign_cards(session, "Seller", [one.iccid, two.msisdn or ""])

        assert sorted(result.assigned) == sorted([one.iccid, two.iccid])
        assert result.held_elsewhere == {}
        assert {one.partner_id, two.partner_id} == {partner_id}

    def test_a_card_held_by_another_partner_moves_only_when_asked(self, session: Session) -> None:
        card, _ = _sold_by(session, "First")
        first_id = card.partner_id
        second_id, _ = _key(session, "Second")

        kept = partner_service.assign_cards(session, "Second", [card.iccid])
        assert kept.assigned == []
        assert kept.held_elsewhere == {card.iccid: "First"}
        assert card.partner_id == first_id

        moved = partner_service.assign_cards(session, "Second", [card.iccid], move=True)
        assert moved.assigned == [card.iccid]
        assert card.partner_id == second_id
