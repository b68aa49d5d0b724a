"""A card's daily usage totals (Kazakhstan days) and its bundles, a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.partner_api.conftest import partner, walk
from tulpar.bundle import service as bundle_service
from tulpar.models import Bundle, Card, LedgerCause, UsageRecord
from tulpar.usage import service as usage_service

_serial = iter(range(1, 10_000))


def _used(session: Session, card: Card, kind: str, quantity: int, at: datetime) -> None:
    report = usage_service.ingest(
        session,
        [
            {
                "source": "switch-1",
                "record_id": f"r{next(_serial)}",
                "card": card.iccid,
                "kind": kind,
                "quantity": quantity,
                "occurred_at": at.isoformat(),
            }
        ],
    )
    assert report.accepted == 1, report


def _utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def _days(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page]


class TestDailyUsage:
    def test_totals_per_kazakhstan_day_are_exact_at_the_day_boundaries(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        seller, headers = partner(session, "Seller")
        card, _ = create_active_card(
            session, plan=create_plan(session, validity_days=30), days_ago=10, partner_id=seller
        )
        # Almaty is UTC+5: its 23 November runs from 22 Nov 19:00 to 23 Nov 19:00 UTC.
        _used(session, card, "data", 7, _utc(19, 19))  # 20 Nov 00:00 local
        _used(session, card, "voice", 30, _utc(20, 5))  # 20 Nov 10:00
        _used(session, card, "data", 1_000, _utc(22, 18, 59, 59))  # 22 Nov 23:59:59
        _used(session, card, "data", 2_000, _utc(22, 19))  # 23 Nov 00:00:00
        _used(session, card, "voice", 60, _utc(23, 10))  # 23 Nov 15:00
        _used(session, card, "sms", 1, _utc(23, 10, 1))
        _used(session, card, "data", 500, _utc(23, 18, 30))  # 23 Nov 23:30
        _used(session, card, "sms", 2, _utc(23, 19, 30))  # 24 Nov 00:30
        session.commit()
        path = f"/v1/cards/{card.iccid}/usage/daily"

        whole = client.get(path, headers=headers).json()
        by_one = walk(client, path, headers, limit=1)

        assert whole == {
            "items": [
                {"day": "2026-11-24", "data_bytes": 0, "voice_seconds": 0, "sms_count": 2},
                {"day": "2026-11-23", "data_bytes": 2_500, "voice_seconds": 60, "sms_count": 1},
                {"day": "2026-11-22", "data_bytes": 1_000, "voice_seconds": 0, "sms_count": 0},
                {"day": "2026-11-20", "data_bytes": 7, "voice_seconds": 30, "sms_count": 0},
            ],
            "next_cursor": None,
        }
        assert [len(page) for page in by_one] == [1, 1, 1, 1]
        assert _days(by_one) == whole["items"]

    def test_usage_arriving_during_a_walk_never_repeats_or_skips_a_day(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        seller, headers = partner(session, "Seller")
        card, _ = create_active_card(
            session, plan=create_plan(session, validity_days=30), days_ago=10, partner_id=seller
        )
        for day in (17, 18, 19, 20, 21, 22):
            _used(session, card, "data", day, _utc(day, 6))  # local noon
        session.commit()

        def more_usage(page: int) -> None:
            # Today (a day already shown) and a late record for a day not reached yet.
            _used(session, card, "sms", 1, _utc(24, 5, page))
            _used(session, card, "data", 100, _utc(18, 7, page))
            session.commit()

        pages = walk(
            client,
            f"/v1/cards/{card.iccid}/usage/daily",
            headers,
            limit=2,
            between_pages=more_usage,
        )

        days = [item["day"] for item in _days(pages)]
        assert days == [f"2026-11-{day}" for day in (22, 21, 20, 19, 18, 17)]
        # The late records for 18 November had arrived (two pages before it was read).
        assert _days(pages)[4]["data_bytes"] == 18 + 2 * 100

    def test_another_partners_card_is_not_found_and_a_cursor_for_another_card_refused(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        seller, headers = partner(session, "Seller")
        _, stranger = partner(session, "Stranger")
        plan = create_plan(session, validity_days=30)
        card, _ = create_active_card(session, plan=plan, days_ago=3, partner_id=seller)
        other, _ = create_active_card(session, plan=plan, days_ago=3, partner_id=seller)
        for day in (21, 22):
            _used(session, card, "data", 1, _utc(day, 6))
        session.commit()
        cursor = client.get(f"/v1/cards/{card.iccid}/usage/daily?limit=1", headers=headers).json()[
            "next_cursor"
        ]
        records = session.scalar(select(func.count()).select_from(UsageRecord))

        theirs = client.get(f"/v1/cards/{card.iccid}/usage/daily", headers=stranger)
        elsewhere = client.get(
            f"/v1/cards/{other.iccid}/usage/daily", params={"cursor": cursor}, headers=headers
        )
        bundles = client.get(
            f"/v1/cards/{card.iccid}/bundles", params={"cursor": cursor}, headers=headers
        )

        assert theirs.status_code == 404
        assert theirs.json()["code"] == "card_not_found"
        assert elsewhere.status_code == bundles.status_code == 422
        assert elsewhere.json()["code"] == bundles.json()["code"] == "cursor_invalid"
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == records


def _json_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _allowance(remaining: int | None, granted: int | None) -> dict[str, Any]:
    return {"unlimited": granted is None, "remaining": remaining, "granted": granted}


class TestBundles:
    def test_every_bundle_once_newest_first_while_renewals_add_more(
        self, client: TestClient, session: Session
    ) -> None:
        seller, headers = partner(session, "Seller")
        plan = create_plan(session, code="KZ-7D")
        card, first = create_active_card(session, plan=plan, partner_id=seller)
        made = [first.id]
        for _ in range(4):
            renewed = bundle_service.apply_plan(
                session, card, plan, cause=LedgerCause.manual_credit, actor="test", reason="t"
            )
            made.append(renewed.id)
        session.commit()
        newest = session.get_one(Bundle, made[-1])
        newest_as_listed = {
            "id": newest.id,
            "plan_code": "KZ-7D",
            "state": "active",
            "starts_at": _json_time(newest.starts_at),
            "expires_at": _json_time(newest.expires_at),
            "data_bytes": _allowance(newest.data_bytes_remaining, newest.data_bytes_granted),
            "voice_seconds": _allowance(
                newest.voice_seconds_remaining, newest.voice_seconds_granted
            ),
            "sms_count": _allowance(newest.sms_count_remaining, newest.sms_count_granted),
            "order_id": None,
            "created_at": _json_time(newest.created_at),
        }

        def renewed_again(page: int) -> None:
            bundle_service.apply_plan(
                session, card, plan, cause=LedgerCause.manual_credit, actor="test", reason="t"
            )
            session.commit()

        pages = walk(
            client, f"/v1/cards/{card.iccid}/bundles", headers, limit=2, between_pages=renewed_again
        )

        # One transaction's created_at for all of them: newest first is highest id first.
        assert [item["id"] for item in _days(pages)] == list(reversed(made))
        assert [len(page) for page in pages] == [2, 2, 1]
        assert _days(pages)[0] == newest_as_listed
        # Renewed twice meanwhile (extend): each replaced bundle is revoked, carried forward.
        listed_now = client.get(f"/v1/cards/{card.iccid}/bundles", headers=headers).json()
        states = [item["state"] for item in listed_now["items"]]
        assert states == [
            "active",
            "revoked",
            "revoked",
            "revoked",
            "revoked",
            "revoked",
            "revoked",
        ]

    def test_another_partners_card_is_not_found(self, client: TestClient, session: Session) -> None:
        seller, _ = partner(session, "Seller")
        _, stranger = partner(session, "Stranger")
        card, _ = create_active_card(session, partner_id=seller)
        session.commit()

        answer = client.get(f"/v1/cards/{card.iccid}/bundles", headers=stranger)

        assert answer.status_code == 404
        assert answer.json()["code"] == "card_not_found"
