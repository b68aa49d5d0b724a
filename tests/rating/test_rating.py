from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card, create_plan
from tests.rating.records import (
    add_bundle,
    bundle_state,
    jobs,
    overages,
    record,
    remaining,
    thresholds,
    usage_entries,
)
from tulpar.balance import service as balance_service
from tulpar.ledger import service as ledger_service
from tulpar.models import Card, UsageKind
from tulpar.rating import repository as rating_repository
from tulpar.rating.service import UsageToRate
from tulpar.usage import service as usage_service

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def test_usage_takes_the_soonest_expiring_bundle_first_then_the_next(
    session: Session, frozen_now: datetime
) -> None:
    card = create_card(session)
    later = add_bundle(
        session, card, starts_at=frozen_now - DAY, expires_at=frozen_now + 9 * DAY, data_bytes=500
    )
    sooner = add_bundle(
        session, card, starts_at=frozen_now - DAY, expires_at=frozen_now + 2 * DAY, data_bytes=300
    )

    report = usage_service.ingest(
        session,
        [
            record(card, "a", 200, frozen_now - 2 * HOUR),
            record(card, "b", 250, frozen_now - HOUR),
        ],
    )

    assert (report.accepted, report.duplicates, report.rejected) == (2, 0, 0)
    assert remaining(session, sooner) == 0
    assert remaining(session, later) == 350
    assert usage_entries(session) == [
        ("a", sooner, "data", -200, 300, 100),
        ("b", sooner, "data", -100, 100, 0),
        ("b", later, "data", -150, 500, 350),
    ]
    assert overages(session) == {}
    assert bundle_state(session, sooner) == "exhausted"
    assert ledger_service.reconcile(session) == []


def test_a_late_record_is_rated_against_the_bundle_of_its_time_even_if_expired(
    session: Session, frozen_now: datetime
) -> None:
    card = create_card(session)
    old = add_bundle(
        session,
        card,
        starts_at=frozen_now - 10 * DAY,
        expires_at=frozen_now - 3 * DAY,
        data_bytes=1_000,
        state="expired",
    )
    current = add_bundle(
        session, card, starts_at=frozen_now - 3 * DAY, expires_at=frozen_now + DAY, data_bytes=800
    )

    usage_service.ingest(
        session,
        [
            record(card, "late", 400, frozen_now - 4 * DAY),
            record(card, "now", 100, frozen_now - HOUR),
            # Exactly at an expiry instant the old bundle no longer counts: [starts, expires).
            record(card, "edge", 10, frozen_now - 3 * DAY),
        ],
    )

    assert remaining(session, old) == 600
    assert remaining(session, current) == 690
    assert bundle_state(session, old) == "expired"
    assert ledger_service.reconcile(session) == []


def test_a_revoked_bundle_is_never_drawn_on_and_what_is_left_is_overage(
    session: Session, frozen_now: datetime
) -> None:
    plan = create_plan(session, data_bytes=1_000)
    card, first = create_active_card(session, plan=plan, days_ago=2)
    # The renewal (extend) revokes the first bundle now; its past window is gone with it.
    from tulpar.bundle import service as bundle_service
    from tulpar.models import LedgerCause

    second = bundle_service.apply_plan(
        session, card, plan, cause=LedgerCause.manual_credit, actor="test"
    )

    usage_service.ingest(
        session,
        [
            record(card, "before", 300, frozen_now - DAY),
            record(card, "after", 300, frozen_now + timedelta(minutes=1)),
        ],
    )

    assert overages(session) == {"before": 300}
    assert remaining(session, first.id) == 0
    assert remaining(session, second.id) == 700
    assert ledger_service.reconcile(session) == []


def test_usage_beyond_every_bundle_is_overage_and_the_bundle_is_exhausted(
    session: Session, frozen_now: datetime
) -> None:
    card, bundle = create_active_card(session, plan=create_plan(session, data_bytes=1_000))

    report = usage_service.ingest(
        session,
        [record(card, str(n), 300, frozen_now + timedelta(minutes=n)) for n in range(5)],
    )

    assert report.accepted == 5
    assert remaining(session, bundle.id) == 0
    assert bundle_state(session, bundle.id) == "exhausted"
    assert overages(session) == {"3": 200, "4": 300}
    assert [entry[3] for entry in usage_entries(session)] == [-300, -300, -300, -100]


def test_data_thresholds_are_recorded_once_each_with_a_job_across_batches(
    session: Session, frozen_now: datetime
) -> None:
    card, bundle = create_active_card(session, plan=create_plan(session, data_bytes=1_000))
    at = frozen_now + timedelta(minutes=1)

    usage_service.ingest(session, [record(card, "r1", 740, at), record(card, "r2", 10, at)])
    assert thresholds(session) == [(bundle.id, 75, "r2")]

    usage_service.ingest(session, [record(card, "r3", 200, at), record(card, "r4", 10, at)])
    usage_service.ingest(session, [record(card, "r5", 50, at), record(card, "r6", 50, at)])

    assert thresholds(session) == [
        (bundle.id, 75, "r2"),
        (bundle.id, 90, "r3"),
        (bundle.id, 100, "r5"),
    ]
    event_ids = [
        int(event_id)
        for event_id in session.execute(
            text("SELECT id FROM usage_threshold_events ORDER BY threshold_percent")
        ).scalars()
    ]
    assert jobs(session, "rating.threshold_crossed") == [
        {"event_id": event_id} for event_id in event_ids
    ]


def test_an_unlimited_allowance_covers_everything_without_ledger_or_overage(
    session: Session, frozen_now: datetime
) -> None:
    card, bundle = create_active_card(session, plan=create_plan(session, data_bytes=None))

    usage_service.ingest(session, [record(card, "big", 10**12, frozen_now)])

    assert remaining(session, bundle.id) is None
    assert usage_entries(session) == []
    assert overages(session) == {}
    assert thresholds(session) == []


def test_voice_and_sms_draw_on_their_own_allowances(session: Session, frozen_now: datetime) -> None:
    plan = create_plan(session, data_bytes=1_000, voice_seconds=600, sms_count=3)
    card, bundle = create_active_card(session, plan=plan)

    usage_service.ingest(
        session,
        [
            record(card, "call", 125, frozen_now, kind="voice"),
            record(card, "sms1", 1, frozen_now, kind="sms"),
            record(card, "sms2", 3, frozen_now, kind="sms"),
        ],
    )

    assert remaining(session, bundle.id, "data") == 1_000
    assert remaining(session, bundle.id, "voice") == 475
    assert remaining(session, bundle.id, "sms") == 0
    assert overages(session) == {"sms2": 1}
    # Running out of SMS does not exhaust the bundle: exhaustion is about data.
    assert bundle_state(session, bundle.id) == "active"


def test_a_duplicate_is_rated_once_within_a_batch_and_across_batches(
    session: Session, frozen_now: datetime
) -> None:
    card, bundle = create_active_card(session, plan=create_plan(session, data_bytes=1_000))
    first = record(card, "x", 100, frozen_now)
    conflicting = {**first, "quantity": 999}  # same key, other content: still the same record

    one = usage_service.ingest(session, [first, first, conflicting])
    two = usage_service.ingest(session, [first, record(card, "y", 50, frozen_now)])

    assert [result.status for result in one.results] == ["accepted", "duplicate", "duplicate"]
    assert [result.status for result in two.results] == ["duplicate", "accepted"]
    assert remaining(session, bundle.id) == 850
    assert len(usage_entries(session)) == 2


def test_exact_balances_after_a_mixed_stream(session: Session, frozen_now: datetime) -> None:
    """A stream mixing kinds, cards, duplicates, a late record and overage, checked against
    numbers worked out by hand below."""
    plan = create_plan(session, data_bytes=10_000, voice_seconds=300, sms_count=5)
    alice, alice_bundle = create_active_card(session, plan=plan, days_ago=1)
    bob = create_card(session)
    bob_old = add_bundle(
        session,
        bob,
        starts_at=frozen_now - 9 * DAY,
        expires_at=frozen_now - 2 * DAY,
        data_bytes=2_000,
        voice_seconds=60,
        state="expired",
    )
    bob_now = add_bundle(
        session, bob, starts_at=frozen_now - 2 * DAY, expires_at=frozen_now + DAY, data_bytes=500
    )
    t = frozen_now - HOUR
    stream = [
        [
            record(alice, "1", 4_000, t),
            record(alice, "2", 120, t, kind="voice"),
            record(bob, "3", 450, t),
            record(alice, "1", 4_000, t),  # duplicate
        ],
        [
            record(alice, "4", 2, t, kind="sms"),
            record(bob, "5", 1_500, t - 3 * DAY),  # late: the expired bundle of its time
            record(bob, "6", 90, t - 3 * DAY, kind="voice"),  # 60 covered, 30 overage
            record(bob, "7", 80, t),  # 50 left now: 30 overage
        ],
        [record(alice, "8", 5_000, t), record(bob, "3", 450, t)],  # duplicate of "3"
    ]
    for batch in stream:
        usage_service.ingest(session, batch)

    assert remaining(session, alice_bundle.id, "data") == 10_000 - 4_000 - 5_000
    assert remaining(session, alice_bundle.id, "voice") == 180
    assert remaining(session, alice_bundle.id, "sms") == 3
    assert remaining(session, bob_old, "data") == 500
    assert remaining(session, bob_old, "voice") == 0
    assert remaining(session, bob_now, "data") == 0
    assert overages(session) == {"6": 30, "7": 30}
    assert ledger_service.reconcile(session) == []
    assert session.execute(text("SELECT count(*) FROM usage_records")).scalar_one() == 8


def test_the_balance_says_as_of_when_the_newest_rated_usage_occurred(
    session: Session, frozen_now: datetime
) -> None:
    card, _ = create_active_card(session, days_ago=1)
    assert balance_service.balance_of(session, card).usage_as_of is None

    usage_service.ingest(
        session,
        [
            record(card, "a", 1, frozen_now - 3 * HOUR),
            record(card, "b", 1, frozen_now - HOUR),
            record(card, "c", 1, frozen_now - 2 * HOUR),
        ],
    )

    balance = balance_service.balance_of(session, card)
    assert balance.usage_as_of == frozen_now - HOUR
    assert balance.data_bytes.remaining == balance.data_bytes.granted - 3  # type: ignore[operator]


def test_usage_as_of_counts_records_on_unlimited_allowances_and_in_overage(
    session: Session, frozen_now: datetime
) -> None:
    card = create_card(session)
    add_bundle(
        session, card, starts_at=frozen_now - DAY, expires_at=frozen_now + DAY, data_bytes=None
    )

    usage_service.ingest(session, [record(card, "a", 5, frozen_now - 3 * HOUR)])
    assert balance_service.balance_of(session, card).usage_as_of == frozen_now - 3 * HOUR

    # no bundle before the unlimited one started: all overage, and the newest record
    usage_service.ingest(session, [record(card, "b", 5, frozen_now - 2 * DAY)])
    assert balance_service.balance_of(session, card).usage_as_of == frozen_now - 3 * HOUR
    usage_service.ingest(session, [record(card, "c", 7, frozen_now - HOUR, kind="sms")])
    assert overages(session) == {"b": 5, "c": 7}
    assert balance_service.balance_of(session, card).usage_as_of == frozen_now - HOUR


def _rated_by_rounds(session: Session, card: Card, times: list[datetime]) -> bool:
    """Whether locking for a batch of the card's records at ``times`` finds two of its bundles
    valid at a common moment (rounds) rather than none (the single-bundle statement)."""
    rows = [
        UsageToRate("sw1", f"choice-{index}", card.id, UsageKind.data, 10, at)
        for index, at in enumerate(times)
    ]
    with session.begin_nested() as savepoint:
        assert rating_repository.insert_new(session, rows) == set()
        overlapping = rating_repository.lock_cards_and_bundles(session)
        savepoint.rollback()
    assert overlapping in ([], [card.id])
    return overlapping == [card.id]


def test_rounds_are_used_only_for_cards_whose_bundles_overlap(
    session: Session, frozen_now: datetime
) -> None:
    card = create_card(session)
    add_bundle(
        session, card, starts_at=frozen_now - 9 * DAY, expires_at=frozen_now - DAY, data_bytes=100
    )
    add_bundle(
        session, card, starts_at=frozen_now - DAY, expires_at=frozen_now + 9 * DAY, data_bytes=100
    )
    revoked = add_bundle(
        session,
        card,
        starts_at=frozen_now - 3 * DAY,
        expires_at=frozen_now + DAY,
        state="revoked",
        data_bytes=100,
    )
    late_and_current = [frozen_now - 5 * DAY, frozen_now - HOUR]
    # Back to back (one ends when the next starts) and revoked bundles: one bundle at a time.
    assert _rated_by_rounds(session, card, late_and_current) is False

    # Valid at a common moment with the current bundle, but after every record: still one.
    add_bundle(
        session, card, starts_at=frozen_now, expires_at=frozen_now + 30 * DAY, data_bytes=100
    )
    assert _rated_by_rounds(session, card, late_and_current) is False

    session.execute(text("UPDATE bundles SET state = 'active' WHERE id = :id"), {"id": revoked})
    assert _rated_by_rounds(session, card, late_and_current) is True
    assert _rated_by_rounds(session, card, [frozen_now - 5 * DAY]) is False


def test_overlapping_bundles_are_rated_by_rounds_next_to_cards_rated_at_once(
    session: Session, frozen_now: datetime
) -> None:
    simple = create_card(session)
    plain = add_bundle(
        session, simple, starts_at=frozen_now - 2 * DAY, expires_at=frozen_now + DAY, data_bytes=100
    )
    card = create_card(session)
    first = add_bundle(
        session, card, starts_at=frozen_now - 2 * DAY, expires_at=frozen_now + DAY, data_bytes=100
    )
    bonus = add_bundle(
        session, card, starts_at=frozen_now - HOUR * 10, expires_at=frozen_now - HOUR, data_bytes=50
    )
    # Before the bonus: only the first; during it: the bonus (sooner-expiring) first.
    usage_service.ingest(
        session,
        [
            record(card, "a", 60, frozen_now - DAY),
            record(card, "b", 70, frozen_now - 5 * HOUR),
            record(card, "c", 40, frozen_now - 2 * HOUR),
            record(simple, "d", 30, frozen_now - 2 * HOUR),
            record(simple, "e", 80, frozen_now - HOUR),
        ],
    )
    # the simple card first (one statement for all such cards), then the rounds
    assert usage_entries(session) == [
        ("d", plain, "data", -30, 100, 70),
        ("e", plain, "data", -70, 70, 0),
        ("a", first, "data", -60, 100, 40),
        ("b", bonus, "data", -50, 50, 0),
        ("b", first, "data", -20, 40, 20),
        ("c", first, "data", -20, 20, 0),
    ]
    assert overages(session) == {"c": 20, "e": 10}
    assert ledger_service.reconcile(session) == []
