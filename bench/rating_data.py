"""The world the rating benchmark runs in: a scratch database, cards with bundles, and a
realistic stream of usage records (mostly in time order, some late, some re-sent)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tulpar.config import Settings, get_settings
from tulpar.db import libpq_url
from tulpar.identifiers import luhn_check_digit

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
MB = 1024 * 1024


def _admin_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return libpq_url(settings)
    return libpq_url(Settings(database_url=None, embedded_database_name="postgres"))


@contextmanager
def scratch_database() -> Iterator[str]:
    admin = _admin_url()
    name = f"tulpar_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def iccid(serial: int) -> str:
    payload = f"8999701{serial:011d}"
    return payload + luhn_check_digit(payload)


def seed(
    engine: Engine, cards: int, *, small_share: float, overlap_share: float, rng: random.Random
) -> None:
    """Cards, each with an expired bundle (for late records) and a current one; a share of
    cards has a small current bundle so exhaustion, thresholds and barring happen, and a share
    has a bonus bundle valid alongside the current one (records draw on two bundles)."""
    small = {serial for serial in range(cards) if rng.random() < small_share}
    overlap = {serial for serial in range(cards) if rng.random() < overlap_share}
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO plans (code, names, data_bytes, voice_seconds, sms_count,
                                   validity_days, channels, renewal_policy, rollover)
                VALUES ('BENCH', '{"zh-Hans":"b","ru":"b","kk":"b","en":"b"}', 0, 0, 0, 30,
                        ARRAY['api'], 'extend', false)
                """
            )
        )
        connection.execute(
            text(
                """
                INSERT INTO cards (iccid, language, state, validity_ends_at)
                SELECT i, 'zh-Hans', 'active', :ends FROM unnest(CAST(:iccids AS text[])) i
                """
            ),
            {"iccids": [iccid(serial) for serial in range(cards)], "ends": NOW + timedelta(20)},
        )
        params = {
            "old_start": NOW - timedelta(days=30),
            "old_end": NOW - timedelta(days=10),
            "new_end": NOW + timedelta(days=20),
            "small": sorted(small),
            "overlap": sorted(overlap),
            "bonus_start": NOW - timedelta(days=5),
            "bonus_end": NOW + timedelta(days=5),
        }
        for statement in _SEED_STATEMENTS:
            used = {name: value for name, value in params.items() if f":{name}" in statement}
            connection.execute(text(statement), used)


_BUNDLE_COLUMNS = """card_id, plan_id, state, starts_at, expires_at, data_bytes_granted,
    data_bytes_remaining, voice_seconds_granted, voice_seconds_remaining, sms_count_granted,
    sms_count_remaining"""
_SEED_STATEMENTS = [
    f"""INSERT INTO bundles ({_BUNDLE_COLUMNS})
    SELECT c.id, p.id, 'expired', :old_start, :old_end,
           2048 * 1048576::bigint, 2048 * 1048576::bigint, 3600, 3600, 50, 50
    FROM cards c, plans p ORDER BY c.id""",
    f"""INSERT INTO bundles ({_BUNDLE_COLUMNS})
    SELECT c.id, p.id, 'active', :old_end, :new_end, d.bytes, d.bytes, 3600, 3600, 50, 50
    FROM cards c CROSS JOIN plans p
    CROSS JOIN LATERAL (SELECT CASE WHEN c.id - 1 = ANY (CAST(:small AS bigint[]))
        THEN 100 * 1048576::bigint ELSE 10240 * 1048576::bigint END AS bytes) d
    ORDER BY c.id""",
    f"""INSERT INTO bundles ({_BUNDLE_COLUMNS})
    SELECT c.id, p.id, 'active', :bonus_start, :bonus_end,
           500 * 1048576::bigint, 500 * 1048576::bigint, 600, 600, 10, 10
    FROM cards c, plans p WHERE c.id - 1 = ANY (CAST(:overlap AS bigint[])) ORDER BY c.id""",
    """INSERT INTO ledger_entries (card_id, bundle_id, account, delta, balance_before,
                                balance_after, cause, actor)
    SELECT b.card_id, b.id, a.account, a.amount, 0, a.amount, 'manual_credit', 'bench'
    FROM bundles b CROSS JOIN LATERAL (VALUES ('data', b.data_bytes_granted),
        ('voice', b.voice_seconds_granted), ('sms', b.sms_count_granted)) AS a(account, amount)""",
    """CREATE TABLE bench_baseline_records (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        source varchar(64) NOT NULL, record_id varchar(128) NOT NULL,
        card_id bigint NOT NULL, kind varchar(24) NOT NULL,
        quantity bigint NOT NULL, occurred_at timestamptz NOT NULL)""",
    "CREATE UNIQUE INDEX ON bench_baseline_records (source, record_id)",
    """CREATE TABLE bench_baseline_allowances (
        card_id bigint PRIMARY KEY, data bigint NOT NULL, voice bigint NOT NULL,
        sms bigint NOT NULL)""",
    # the baseline keeps one allowance per card: the current bundle's
    """INSERT INTO bench_baseline_allowances
    SELECT DISTINCT ON (card_id) card_id, data_bytes_remaining, voice_seconds_remaining,
           sms_count_remaining
    FROM bundles WHERE state = 'active' ORDER BY card_id, id""",
    "ANALYZE",
]


def stream(
    cards: int, records: int, *, duplicates: float, late: float, rng: random.Random
) -> list[dict[str, object]]:
    """Records in arrival order: mostly in time order over the last 10 days, ``late`` of them
    from the previous bundle's window, ``duplicates`` of them re-sent copies."""
    out: list[dict[str, object]] = []
    span = 10 * 24 * 3600 - 60
    for index in range(records):
        if out and rng.random() < duplicates:
            out.append(dict(out[rng.randrange(len(out))]))
            continue
        offset = span * index // records
        at = NOW - timedelta(days=10) + timedelta(seconds=offset)
        if rng.random() < late:
            at = NOW - timedelta(days=10 + rng.uniform(0.01, 19.9))
        roll = rng.random()
        if roll < 0.7:
            kind, quantity = "data", rng.randint(10_000, 5 * MB)
        elif roll < 0.9:
            kind, quantity = "voice", rng.randint(1, 600)
        else:
            kind, quantity = "sms", 1
        out.append(
            {
                "source": f"msc{index % 4}",
                "record_id": f"{index:012d}",
                "card": iccid(rng.randrange(cards)),
                "kind": kind,
                "quantity": quantity,
                "occurred_at": at.isoformat(),
            }
        )
    return out
