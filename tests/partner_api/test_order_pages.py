"""``GET /v1/orders``: a partner's orders, newest first, a page at a time, by keyset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.partner_api.conftest import create_order, partner, walk
from tulpar.models import Order, OrderState

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _ids(pages: list[list[dict[str, Any]]]) -> list[int]:
    return [int(item["id"]) for page in pages for item in page]


class TestWalkingThePages:
    def test_each_order_comes_once_newest_first_while_new_orders_arrive(
        self, client: TestClient, session: Session
    ) -> None:
        seller, headers = partner(session, "Seller")
        other, _ = partner(session, "Other")
        plan = create_plan(session, code="P7")
        card, _ = create_active_card(session, plan=plan, partner_id=seller)
        theirs, _ = create_active_card(session, plan=plan, partner_id=other)
        # Three share one created_at (one transaction's now()): the id orders them.
        times = [
            T0,
            T0 + timedelta(minutes=1),
            *[T0 + timedelta(minutes=2)] * 3,
            T0 + timedelta(hours=5),
        ]
        mine = [
            create_order(session, card=card, plan=plan, partner_id=seller, created_at=at)
            for at in times
        ]
        for at in times[:2]:
            create_order(session, card=theirs, plan=plan, partner_id=other, created_at=at)
        session.commit()
        expected = [o.id for o in sorted(mine, key=lambda o: (o.created_at, o.id), reverse=True)]
        arrived: list[int] = []

        def an_order_arrives(page: int) -> None:
            # Newer than every page read so far, and one with the cursor's own created_at
            # (a higher id): both belong before the walk's position.
            for at in (T0 + timedelta(days=1, minutes=page), T0 + timedelta(minutes=2)):
                placed = create_order(
                    session, card=card, plan=plan, partner_id=seller, created_at=at
                )
                arrived.append(placed.id)
            session.commit()

        pages = walk(client, "/v1/orders", headers, limit=2, between_pages=an_order_arrives)

        assert [len(page) for page in pages] == [2, 2, 2]
        assert _ids(pages) == expected
        assert len(arrived) == 4
        # A new walk sees them all, each once, newest first.
        again = _ids(walk(client, "/v1/orders", headers, limit=4))
        assert sorted(again) == sorted(expected + arrived)
        assert len(set(again)) == len(again) == 10
        times_seen = [session.get_one(Order, order_id).created_at for order_id in again]
        assert times_seen == sorted(times_seen, reverse=True)

    def test_the_items_say_what_was_bought_and_the_last_page_has_no_cursor(
        self, client: TestClient, session: Session
    ) -> None:
        seller, headers = partner(session, "Seller")
        plan = create_plan(session, code="KZ-7D")
        card, _ = create_active_card(session, plan=plan, partner_id=seller)
        order = create_order(
            session, card=card, plan=plan, partner_id=seller, created_at=T0, state=OrderState.paid
        )
        session.commit()

        body = client.get("/v1/orders", headers=headers).json()

        assert body == {
            "items": [
                {
                    "id": order.id,
                    "kind": "plan_renewal",
                    "state": "paid",
                    "iccid": card.iccid,
                    "plan": "KZ-7D",
                    "channel": "api",
                    "amount": {"amount_minor": 3_500_00, "currency": "KZT"},
                    "promo_code": None,
                    "created_at": "2026-11-20T08:00:00Z",
                    "state_changed_at": "2026-11-20T08:00:00Z",
                }
            ],
            "next_cursor": None,
        }

    def test_filters_by_state_and_by_card_page_on_their_own(
        self, client: TestClient, session: Session
    ) -> None:
        seller, headers = partner(session, "Seller")
        plan = create_plan(session)
        one, _ = create_active_card(session, plan=plan, partner_id=seller)
        two, _ = create_active_card(session, plan=plan, partner_id=seller)
        made: dict[tuple[int, OrderState], list[int]] = {}
        for minute in range(6):
            for card in (one, two):
                state = OrderState.paid if minute % 2 else OrderState.completed
                placed = create_order(
                    session,
                    card=card,
                    plan=plan,
                    partner_id=seller,
                    created_at=T0 + timedelta(minutes=minute),
                    state=state,
                )
                made.setdefault((card.id, state), []).insert(0, placed.id)
        session.commit()

        paid_of_one = walk(
            client,
            "/v1/orders",
            headers,
            limit=2,
            filters={"state": "paid", "card": str(one.msisdn)},
        )
        completed = walk(client, "/v1/orders", headers, limit=4, filters={"state": "completed"})

        assert _ids(paid_of_one) == made[(one.id, OrderState.paid)]
        assert sorted(_ids(completed)) == sorted(
            made[(one.id, OrderState.completed)] + made[(two.id, OrderState.completed)]
        )
        assert [len(page) for page in completed] == [4, 2]


class TestRefusals:
    def test_another_partners_card_is_not_found_and_its_orders_never_listed(
        self, client: TestClient, session: Session
    ) -> None:
        seller, seller_headers = partner(session, "Seller")
        _, stranger = partner(session, "Stranger")
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan, partner_id=seller)
        create_order(session, card=card, plan=plan, partner_id=seller, created_at=T0)
        session.commit()

        filtered = client.get(f"/v1/orders?card={card.iccid}", headers=stranger)
        listed = client.get("/v1/orders", headers=stranger)

        assert filtered.status_code == 404
        assert filtered.json()["code"] == "card_not_found"
        assert listed.json() == {"items": [], "next_cursor": None}
        assert len(client.get("/v1/orders", headers=seller_headers).json()["items"]) == 1

    def test_a_changed_cursor_or_one_from_another_list_is_refused(
        self, client: TestClient, session: Session
    ) -> None:
        seller, headers = partner(session, "Seller")
        _, other_headers = partner(session, "Other")
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan, partner_id=seller)
        for minute in range(3):
            create_order(
                session,
                card=card,
                plan=plan,
                partner_id=seller,
                created_at=T0 + timedelta(minutes=minute),
            )
        session.commit()
        cursor = client.get("/v1/orders?limit=1", headers=headers).json()["next_cursor"]
        payload, _, tag = cursor.partition(".")
        changed_payload = ("A" if payload[0] != "A" else "B") + payload[1:]
        orders_before = session.scalar(select(func.count()).select_from(Order))

        refusals = [
            client.get("/v1/orders", params={"cursor": bad}, headers=headers)
            for bad in (f"{changed_payload}.{tag}", payload, "not-a-cursor", f"{payload}.{tag}x")
        ]
        other_filter = client.get(
            "/v1/orders", params={"cursor": cursor, "state": "paid"}, headers=headers
        )
        other_partner = client.get("/v1/orders", params={"cursor": cursor}, headers=other_headers)
        other_list = client.get(
            f"/v1/cards/{card.iccid}/bundles", params={"cursor": cursor}, headers=headers
        )

        for answer in [*refusals, other_filter, other_partner, other_list]:
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["code"] == "cursor_invalid"
        assert session.scalar(select(func.count()).select_from(Order)) == orders_before
        assert (
            client.get("/v1/orders", params={"cursor": cursor}, headers=headers).status_code == 200
        )

    def test_limit_is_between_1_and_200(self, client: TestClient, session: Session) -> None:
        _, headers = partner(session, "Seller")
        session.commit()

        answers = {
            n: client.get(f"/v1/orders?limit={n}", headers=headers) for n in (0, 1, 200, 201)
        }

        assert {n: a.status_code for n, a in answers.items()} == {
            0: 422,
            1: 200,
            200: 200,
            201: 422,
        }

    def test_a_traveller_token_or_no_key_cannot_list_orders(
        self, client: TestClient, session: Session
    ) -> None:
        from tests.fixtures.payments import traveller_headers

        card, _ = create_active_card(session)
        headers = traveller_headers(session, card)
        session.commit()

        assert client.get("/v1/orders", headers=headers).status_code == 403
        assert client.get("/v1/orders").status_code == 401
