"""Data thresholds: rating's own statement writes the partner's event (migration 0017's
trigger), once per bundle and threshold, only for the card's partner with an endpoint."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.partner_webhook.conftest import events_of, partner_caller, subscribe
from tulpar import clock
from tulpar.kit.format import GB
from tulpar.models import UsageKind
from tulpar.partner_webhook import payloads
from tulpar.rating import service as rating_service
from tulpar.rating.service import UsageToRate


def test_crossing_data_thresholds_records_one_event_each_for_the_card_partner(
    session: Session,
) -> None:
    a = partner_caller(session, "Partner A")
    b = partner_caller(session, "Partner B")
    subscribe(session, a, "http://127.0.0.1:9/hooks", ["card.data_threshold"])
    subscribe(session, b, "http://127.0.0.1:9/other")
    plan = create_plan(session, data_bytes=10 * GB)
    card, bundle = create_active_card(session, plan=plan, partner_id=a.partner_id)
    now = clock.now()
    for number, quantity in enumerate((8 * GB, 1 * GB + GB // 2)):
        rating_service.rate(
            session,
            [UsageToRate("carrier", f"r{number}", card.id, UsageKind.data, quantity, now)],
        )
    events = events_of(session, a.partner_id or 0)
    assert [e.data["threshold_percent"] for e in events] == [75, 90]
    assert {e.type for e in events} == {"card.data_threshold"}
    assert events[0].data["card"] == {"iccid": card.iccid}
    assert events[0].data["bundle_id"] == bundle.id
    payloads.DataThresholdData.model_validate(events[0].data)
    assert events_of(session, b.partner_id or 0) == []
