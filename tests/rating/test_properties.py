"""The rating invariants over random bundles and record streams (duplicates, out-of-order and
late records, any batching), checked against an independent model written plainly below."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card, create_plan
from tests.rating.records import add_bundle
from tulpar.ledger import service as ledger_service
from tulpar.rating import repository as rating_repository
from tulpar.usage import service as usage_service

BASE = datetime.fromisoformat("2026-11-21T06:00:00+00:00")  # frozen_now is 72 h later
KINDS = ("data", "voice", "sms")
COLUMN = {"data": "data_bytes", "voice": "voice_seconds", "sms": "sms_count"}
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@dataclass(frozen=True)
class BundleSpec:
    card: int
    starts_hour: int
    hours: int
    state: str
    allowance: tuple[int, int, int]  # data, voice, sms


@dataclass(frozen=True)
class Usage:
    record_id: str
    card: int
    kind: str
    quantity: int
    minute: int  # minutes after BASE

    @property
    def at(self) -> datetime:
        return BASE + timedelta(minutes=self.minute)


# Mostly one card and long windows, so records often have several bundles to choose from.
bundle_specs = st.builds(
    BundleSpec,
    card=st.sampled_from([0, 0, 0, 1]),
    starts_hour=st.integers(0, 40),
    hours=st.integers(4, 72),
    state=st.sampled_from(["active", "active", "expired", "exhausted", "scheduled", "revoked"]),
    allowance=st.tuples(st.integers(0, 3_000), st.integers(0, 300), st.integers(0, 4)),
)
usages = st.builds(
    Usage,
    record_id=st.integers(0, 30).map(lambda n: f"r{n:03d}"),  # a small pool: duplicates
    card=st.sampled_from([0, 0, 0, 1]),
    kind=st.sampled_from(KINDS),
    quantity=st.integers(1, 900),
    minute=st.integers(0, 72 * 60),
)


@dataclass
class ModelBundle:
    spec: BundleSpec
    remaining: dict[str, int] = field(default_factory=dict)

    def valid_at(self, at: datetime) -> bool:
        starts = BASE + timedelta(hours=self.spec.starts_hour)
        return self.spec.state != "revoked" and starts <= at < starts + timedelta(
            hours=self.spec.hours
        )

    @property
    def expires(self) -> datetime:
        return BASE + timedelta(hours=self.spec.starts_hour + self.spec.hours)


def model(
    specs: list[BundleSpec], batches: list[list[Usage]]
) -> tuple[list[dict[str, int]], dict[str, int]]:
    """Remaining allowances per bundle and overage per record, computed record by record:
    each batch's new records in (occurred_at, key) order, each taking from its card's
    bundles valid at its time, soonest-expiring first."""
    bundles = [ModelBundle(spec, dict(zip(KINDS, spec.allowance, strict=True))) for spec in specs]
    seen: set[str] = set()
    overage: dict[str, int] = {}
    for batch in batches:
        new = []
        for usage in batch:
            if usage.record_id not in seen:
                seen.add(usage.record_id)
                new.append(usage)
        for usage in sorted(new, key=lambda u: (u.at, u.record_id)):
            left = usage.quantity
            candidates = [
                (bundle.expires, index, bundle)
                for index, bundle in enumerate(bundles)
                if bundle.spec.card == usage.card and bundle.valid_at(usage.at)
            ]
            for _, _, bundle in sorted(candidates, key=lambda c: (c[0], c[1])):
                taken = min(bundle.remaining[usage.kind], left)
                bundle.remaining[usage.kind] -= taken
                left -= taken
            if left:
                overage[usage.record_id] = left
    return [bundle.remaining for bundle in bundles], overage


@contextmanager
def scratch(session: Session) -> Iterator[None]:
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        session.expire_all()


def run_engine(
    session: Session, specs: list[BundleSpec], batches: list[list[Usage]]
) -> tuple[list[dict[str, int]], dict[str, int], int]:
    """Rate ``batches`` for fresh cards and bundles; (remaining per bundle, overage per record,
    quantity the ledger says was deducted)."""
    cards = [create_card(session), create_card(session)]
    plan = create_plan(session)
    bundle_ids = [
        add_bundle(
            session,
            cards[spec.card],
            starts_at=BASE + timedelta(hours=spec.starts_hour),
            expires_at=BASE + timedelta(hours=spec.starts_hour + spec.hours),
            data_bytes=spec.allowance[0],
            voice_seconds=spec.allowance[1],
            sms_count=spec.allowance[2],
            state=spec.state,
            plan_id=plan.id,
        )
        for spec in specs
    ]
    for batch in batches:
        usage_service.ingest(
            session,
            [
                {
                    "source": "sw",
                    "record_id": usage.record_id,
                    "card": cards[usage.card].iccid,
                    "kind": usage.kind,
                    "quantity": usage.quantity,
                    "occurred_at": usage.at.isoformat(),
                }
                for usage in batch
            ],
        )
    remaining = []
    for bundle_id in bundle_ids:
        row = session.execute(
            text(
                "SELECT data_bytes_remaining, voice_seconds_remaining, sms_count_remaining"
                " FROM bundles WHERE id = :id"
            ),
            {"id": bundle_id},
        ).one()
        remaining.append(dict(zip(KINDS, (int(value) for value in row), strict=True)))
    overage = {
        str(record_id): int(quantity)
        for record_id, quantity in session.execute(
            text(
                "SELECT u.record_id, o.quantity FROM usage_overages o"
                " JOIN usage_records u ON u.id = o.usage_record_id"
            )
        )
    }
    deducted = int(
        session.execute(
            text("SELECT coalesce(-sum(delta), 0) FROM ledger_entries WHERE cause = 'usage'")
        ).scalar_one()
    )
    # No allowance below zero, and every stored balance equals the sum of its ledger entries.
    assert all(value >= 0 for allowance in remaining for value in allowance.values())
    assert ledger_service.reconcile(session) == []
    return remaining, overage, deducted


def split(stream: list[Usage], cuts: list[int]) -> list[list[Usage]]:
    points = sorted({cut % (len(stream) + 1) for cut in cuts} | {0, len(stream)})
    return [stream[a:b] for a, b in itertools.pairwise(points) if b > a]


@SETTINGS
@given(
    specs=st.lists(bundle_specs, min_size=1, max_size=4),
    stream=st.lists(usages, min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
@example(  # overlapping windows: the one expiring sooner is drawn on first
    specs=[
        BundleSpec(0, 0, 30, "active", (1000, 0, 0)),
        BundleSpec(0, 5, 10, "active", (300, 0, 0)),
    ],
    stream=[Usage("r001", 0, "data", 200, 6 * 60), Usage("r002", 0, "data", 200, 7 * 60)],
    cuts=[],
)
@example(  # a late record after later ones, and the set of bundles changing mid-batch
    specs=[
        BundleSpec(0, 0, 10, "expired", (500, 0, 0)),
        BundleSpec(0, 8, 40, "active", (500, 0, 0)),
    ],
    stream=[
        Usage("r001", 0, "data", 300, 9 * 60),
        Usage("r002", 0, "data", 300, 20 * 60),
        Usage("r003", 0, "data", 300, 60),
        Usage("r001", 0, "data", 300, 9 * 60),
    ],
    cuts=[2],
)
@pytest.mark.parametrize("statement", ["as_chosen", "rounds_always"])
def test_rating_matches_the_model_and_accounts_for_every_unit(
    session: Session,
    frozen_now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    statement: str,
    specs: list[BundleSpec],
    stream: list[Usage],
    cuts: list[int],
) -> None:
    if statement == "rounds_always":
        # The general statement (rounds over sets of bundles) must also be right where the
        # single-bundle one is normally chosen instead.
        lock = rating_repository.lock_cards_and_bundles

        def every_card_by_rounds(session: Session) -> list[int]:
            lock(session)
            return list(session.execute(text("SELECT DISTINCT card_id FROM rating_new")).scalars())

        monkeypatch.setattr(rating_repository, "lock_cards_and_bundles", every_card_by_rounds)
    batches = split(stream, cuts)
    with scratch(session):
        remaining, overage, deducted = run_engine(session, specs, batches)

    expected_remaining, expected_overage = model(specs, batches)
    assert remaining == expected_remaining
    assert overage == expected_overage
    unique_total = sum({u.record_id: u.quantity for u in reversed(stream)}.values())
    # rated + overage == total of unique records (the first copy of each key counts)
    assert deducted + sum(overage.values()) == unique_total


@SETTINGS
@given(
    specs=st.lists(bundle_specs, min_size=1, max_size=4),
    stream=st.lists(usages, min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=4),
    data=st.data(),
)
def test_arrival_order_within_a_batch_does_not_matter(
    session: Session,
    frozen_now: datetime,
    specs: list[BundleSpec],
    stream: list[Usage],
    cuts: list[int],
    data: st.DataObject,
) -> None:
    # Copies of a key are identical here, so which copy is first cannot matter either.
    first = {u.record_id: u for u in stream}
    stream = [first[u.record_id] for u in stream]
    batches = split(stream, cuts)
    shuffled = [data.draw(st.permutations(batch)) for batch in batches]

    with scratch(session):
        as_sent = run_engine(session, specs, batches)
    with scratch(session):
        reordered = run_engine(session, specs, shuffled)

    assert reordered == as_sent


@SETTINGS
@given(
    specs=st.lists(bundle_specs, min_size=1, max_size=4),
    stream=st.lists(usages, min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_batch_boundaries_do_not_matter_for_records_arriving_in_time_order(
    session: Session,
    frozen_now: datetime,
    specs: list[BundleSpec],
    stream: list[Usage],
    cuts: list[int],
) -> None:
    first = {u.record_id: u for u in stream}
    in_time_order = sorted((first[u.record_id] for u in stream), key=lambda u: (u.at, u.record_id))

    with scratch(session):
        one_batch = run_engine(session, specs, [in_time_order])
    with scratch(session):
        many_batches = run_engine(session, specs, split(in_time_order, cuts))

    assert many_batches == one_batch
