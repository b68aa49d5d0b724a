"""``GET /v1/cards/{card}/usage``: the balance's figures, as used and left, with "as of"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan, make_iccid
from tests.partner_api.conftest import partner
from tulpar import clock
from tulpar.app import create_app
from tulpar.kit.format import GB
from tulpar.usage import service as usage_service

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _use(session: Session, iccid: str, *records: tuple[str, str, int, datetime]) -> None:
    report = usage_service.ingest(
        session,
        [
            {
                "source": "switch-1",
                "record_id": record_id,
                "card": iccid,
                "kind": kind,
                "quantity": quantity,
                "occurred_at": at.isoformat(),
            }
            for record_id, kind, quantity, at in records
        ],
    )
    assert report.accepted == len(records)


class TestUsage:
    def test_used_and_left_equal_the_balance_and_as_of_is_the_newest_usage(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        seller, headers = partner(session, "Seller")
        plan = create_plan(session, validity_days=15, data_bytes=2 * GB, voice_seconds=600)
        card, _ = create_active_card(session, plan=plan, days_ago=2, partner_id=seller)
        newest = frozen_now - timedelta(minutes=20)
        _use(
            session,
            card.iccid,
            ("a", "data", 300_000_000, frozen_now - timedelta(hours=5)),
            ("b", "voice", 125, frozen_now - timedelta(hours=3)),
            ("c", "sms", 3, newest),
        )
        session.commit()

        usage = client.get(f"/v1/cards/{card.iccid}/usage", headers=headers).json()
        balance = client.get(f"/v1/cards/{card.msisdn}/balance", headers=headers).json()

        assert usage == {
            "iccid": card.iccid,
            "state": "active",
            "validity_ends_at": balance["validity_ends_at"],
            "validity_ends_at_local": balance["validity_ends_at_local"],
            "data_bytes": {
                "unlimited": False,
                "granted": 2 * GB,
                "remaining": 2 * GB - 300_000_000,
                "used": 300_000_000,
            },
            "voice_seconds": {"unlimited": False, "granted": 600, "remaining": 475, "used": 125},
            "sms_count": {"unlimited": False, "granted": 50, "remaining": 47, "used": 3},
            "as_of": "2026-11-24T05:40:00Z",
        }
        for kind in ("data_bytes", "voice_seconds", "sms_count"):
            assert usage[kind]["remaining"] == balance[kind]["remaining"]
            assert usage[kind]["granted"] == balance[kind]["granted"]
        assert usage["as_of"] == balance["usage_as_of"]
        assert usage["validity_ends_at"] == "2026-12-07T06:00:00Z"

    def test_unlimited_is_said_and_nothing_is_counted_before_any_usage(
        self, client: TestClient, session: Session
    ) -> None:
        seller, headers = partner(session, "Seller")
        plan = create_plan(session, data_bytes=None, sms_count=None)
        card, _ = create_active_card(session, plan=plan, partner_id=seller)
        session.commit()

        usage = client.get(f"/v1/cards/{card.iccid}/usage", headers=headers).json()

        unlimited = {"unlimited": True, "granted": None, "remaining": None, "used": None}
        assert usage["data_bytes"] == usage["sms_count"] == unlimited
        assert usage["voice_seconds"] == {
            "unlimited": False,
            "granted": 3600,
            "remaining": 3600,
            "used": 0,
        }
        assert usage["as_of"] is None

    def test_another_partners_card_and_an_unknown_one_answer_alike(
        self, client: TestClient, session: Session
    ) -> None:
        seller, _ = partner(session, "Seller")
        _, stranger = partner(session, "Stranger")
        card, _ = create_active_card(session, partner_id=seller)
        session.commit()

        theirs = client.get(f"/v1/cards/{card.iccid}/usage", headers=stranger)
        unknown = client.get(f"/v1/cards/{make_iccid(424_242)}/usage", headers=stranger)
        garbled = client.get("/v1/cards/not-a-card/usage", headers=stranger)

        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json()["code"] == unknown.json()["code"] == "card_not_found"
        assert garbled.status_code == 422


@pytest.fixture
def limited_client(
    session_factory: sessionmaker[Session], configure: Callable[..., None]
) -> Iterator[TestClient]:
    """The app with a per-card limit of 4 reads a minute, on a frozen clock."""
    configure(rate_limit_card_per_minute=4)
    with clock.frozen(NOW), TestClient(create_app(session_factory)) as client:
        yield client


def test_the_per_card_limit_counts_usage_lists_and_balance_reads_together(
    limited_client: TestClient, session: Session
) -> None:
    seller, headers = partner(session, "Seller")
    card, _ = create_active_card(session, partner_id=seller)
    other, _ = create_active_card(session, partner_id=seller)
    session.commit()
    paths = ["balance", "usage", "usage/daily", "bundles"]

    answers = [
        limited_client.get(f"/v1/cards/{card.iccid}/{path}", headers=headers) for path in paths
    ]
    refused = limited_client.get(f"/v1/cards/{card.iccid}/usage", headers=headers)

    assert [answer.status_code for answer in answers] == [200] * 4
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "15"
    assert limited_client.get(f"/v1/cards/{other.iccid}/usage", headers=headers).status_code == 200
