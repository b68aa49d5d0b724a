"""The rating engine's SQL. Every statement works on a whole batch at once.

A batch lives in temporary tables of the session's connection: ``rating_incoming`` (the batch
as given), ``rating_new`` (records stored by this batch) and ``rating_later`` (the few records
that must wait for a later round, with the bundles each may draw on). The first two are emptied
at every commit, and by a batch that follows another in the same transaction; ``rating_later``
by the statement that fills it.

The cards of ``rating_new`` are also kept, sorted, in the session's ``info`` (:func:`insert_new`
sets them) for the statements that follow, which name them as an array: a temporary table has
no statistics, so the planner guesses it holds hundreds of rows and scans every card and bundle
for a batch of a few dozen records; an array's length it knows, and it picks index scans on
``bundles (card_id, …)`` when the cards are few."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from tulpar.db import driver_connection
from tulpar.models import UsageThresholdEvent

# Capacity that stands for an unlimited allowance in the running sums, which are bigint (numeric
# arithmetic costs a tenth of a batch's rating time). A batch's usage per card and kind is at
# most 10,000 × MAX_RECORD_QUANTITY = 10^16, below it; a group would need 512 unlimited offers
# at once for the sum to leave bigint (it would then fail, never round).
UNLIMITED = 2**54
MAX_RECORD_QUANTITY = 10**12

_REMAINING_OF = """CASE {kind} WHEN 'data' THEN {b}.data_bytes_remaining
    WHEN 'voice' THEN {b}.voice_seconds_remaining ELSE {b}.sms_count_remaining END"""
# What bundle ``b`` has left of record ``r``'s kind.
_LEFT_FOR_RECORD = _REMAINING_OF.format(kind="r.kind", b="b")

# Emptying a table at commit rebuilds the index of its TOAST table, in the catalog too: at every
# commit of the session, touched or not, for milliseconds. Text of bounded length (the limits of
# ``usage_records``) spares the first two a TOAST table; ``rating_later`` must keep one for its
# arrays, so it is not emptied at commit (rarely written, it is only ever read after this
# batch's DELETE).
_CREATE_TEMP_TABLES = text(
    """
    CREATE TEMP TABLE IF NOT EXISTS rating_incoming (
        source varchar(64) NOT NULL, record_id varchar(128) NOT NULL, card_id bigint NOT NULL,
        kind varchar(24) NOT NULL, quantity bigint NOT NULL, occurred_at timestamptz NOT NULL
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS rating_new (
        id bigint NOT NULL, card_id bigint NOT NULL, kind varchar(24) NOT NULL,
        quantity bigint NOT NULL, occurred_at timestamptz NOT NULL
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS rating_later (
        id bigint NOT NULL, card_id bigint NOT NULL, kind text NOT NULL,
        quantity bigint NOT NULL, occurred_at timestamptz NOT NULL,
        candidates bigint[] NOT NULL, round bigint NOT NULL
    );
    DELETE FROM rating_incoming;
    DELETE FROM rating_new;
    """
)
_EMPTY_TEMP_TABLES = text("DELETE FROM rating_incoming; DELETE FROM rating_new")

# Whether this connection's temporary tables exist, in its ``info``: checking with
# IF NOT EXISTS costs three catalog lookups and three notices per batch. False: made in the
# transaction under way (gone if it rolls back); True: made by one that committed.
_TEMP_TABLES_MADE = "tulpar.rating.temp_tables_made"
# Whether a batch of the transaction under way may have left rows in them, also in ``info``:
# the usual transaction rates one batch, into tables its start found empty (a commit or a
# rollback empties them), and needs no statement to empty them first. A savepoint rolled back
# leaves the mark: at worst a batch empties empty tables.
_TEMP_TABLES_FILLED = "tulpar.rating.temp_tables_filled"


@event.listens_for(Engine, "commit")
def _temp_tables_kept(connection: Connection) -> None:
    if connection.invalidated:
        return
    connection.info.pop(_TEMP_TABLES_FILLED, None)
    if connection.info.get(_TEMP_TABLES_MADE) is False:
        connection.info[_TEMP_TABLES_MADE] = True


@event.listens_for(Engine, "rollback")
def _temp_tables_emptied(connection: Connection) -> None:
    if not connection.invalidated:
        connection.info.pop(_TEMP_TABLES_FILLED, None)


@event.listens_for(Engine, "rollback")
@event.listens_for(Engine, "rollback_savepoint")
def _temp_tables_maybe_lost(connection: Connection, *_: object) -> None:
    # A savepoint rolled back may have been begun before they were made: assume the worst.
    # (A connection that died has no info to read, and its replacement starts with none.)
    if connection.invalidated:
        return
    if connection.info.get(_TEMP_TABLES_MADE) is False:
        del connection.info[_TEMP_TABLES_MADE]


def _ready_temp_tables(session: Session) -> None:
    """The batch's temporary tables, empty (but ``rating_later``, see :data:`_BATCH`)."""
    info = session.connection().info
    if info.get(_TEMP_TABLES_MADE) is not True:
        session.execute(_CREATE_TEMP_TABLES)
        info.setdefault(_TEMP_TABLES_MADE, False)
    elif info.get(_TEMP_TABLES_FILLED):
        session.execute(_EMPTY_TEMP_TABLES)
    info[_TEMP_TABLES_FILLED] = True


# The batch arrives by binary COPY: a third of the cost of sending it as arrays, most of it
# psycopg's own (C) formatting instead of Python's.
_COPY_INCOMING = "COPY rating_incoming FROM STDIN (FORMAT BINARY)"
_INCOMING_TYPES = ["text", "text", "int8", "text", "int8", "timestamptz"]
_BATCH_CARDS = "tulpar.rating.batch_cards"  # the key in ``Session.info``
# The cards go back and forth as the array's text ("{1,2,3}"), which the server reads as the
# bigint[] the statements cast it to: building and reading thousands of Python ints, element
# by element, cost more than the statements' planning.

# The driver prepares a statement run often, and the server then plans it once for any
# parameters, guessing 10 cards for an array: right for small batches, ruinous for thousands of
# cards (nested loops where a scan is due). Larger batches have their statements planned for
# their own cards, for the rest of the transaction.
_GENERIC_PLANS_UP_TO = 1_000
_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")

# Sorted by key: two batches sharing keys wait on each other in one order, never in a cycle.
# It answers the keys stored before; NOT IN (hashed) finds them cheaper than NOT EXISTS, which
# sorts both sides by text. A last row (no key) holds the cards of the records it stored,
# which the same statement locks in primary-key order (one round trip fewer per batch).
# The cards are looked up by key, from an array (as IN, a join, it hashed every card for a
# batch of a few dozen records). FOR NO KEY UPDATE: it does not conflict with the key-share
# locks that inserting rows which reference these cards and bundles takes, so only rating and
# renewals wait on each other.
_INSERT_NEW = text(
    """
    WITH stored AS (
        INSERT INTO usage_records (source, record_id, card_id, kind, quantity, occurred_at)
        SELECT source, record_id, card_id, kind, quantity, occurred_at FROM rating_incoming
        ORDER BY source COLLATE "C", record_id COLLATE "C"
        ON CONFLICT (source, record_id) DO NOTHING
        RETURNING id, source, record_id, card_id, kind, quantity, occurred_at
    ), kept AS (
        INSERT INTO rating_new (id, card_id, kind, quantity, occurred_at)
        SELECT id, card_id, kind, quantity, occurred_at FROM stored
    ), locked AS (
        SELECT id FROM cards WHERE id = ANY (ARRAY(SELECT card_id FROM stored))
        ORDER BY id FOR NO KEY UPDATE
    )
    SELECT i.source, i.record_id, NULL FROM rating_incoming i
    WHERE (i.source, i.record_id) NOT IN (SELECT source, record_id FROM stored)
    UNION ALL SELECT NULL, NULL, coalesce(array_agg(id ORDER BY id), '{}')::text FROM locked
    """
)

# Every bundle a record of the batch may draw on is locked. It answers the cards two of whose
# locked bundles are valid at a common moment: only their records may have more than one
# bundle to draw on. (No bundle of these cards can be added or widened meanwhile: that takes
# the card's lock, which this transaction holds.)
_LOCK_BUNDLES = text(
    """
    SELECT DISTINCT card_id FROM (
        SELECT card_id, starts_at, max(expires_at) OVER (
                   PARTITION BY card_id ORDER BY starts_at, id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end
        FROM (
            SELECT b.id, b.card_id, b.starts_at, b.expires_at FROM bundles b
            JOIN (SELECT card_id, min(occurred_at) AS first_at, max(occurred_at) AS last_at
                  FROM rating_new GROUP BY card_id) r ON r.card_id = b.card_id
            WHERE b.card_id = ANY (CAST(:cards AS bigint[])) AND b.state <> 'revoked'
              AND b.starts_at <= r.last_at AND b.expires_at > r.first_at
            ORDER BY b.id FOR NO KEY UPDATE OF b
        ) locked
    ) windows
    WHERE starts_at < earlier_end
    """
)

# The bundles a record of ``r`` may draw on: its card's, valid at its time, with some of its
# kind left (NULL, unlimited, counts as some).
_MAY_DRAW_ON = f"""b.card_id = r.card_id AND b.state <> 'revoked'
    AND b.starts_at <= r.occurred_at AND r.occurred_at < b.expires_at
    AND coalesce({_LEFT_FOR_RECORD}, 1) > 0"""

# The bundles of the statement's cards, joined to the array's elements rather than filtered by
# ``card_id = ANY (…)``: planned for a batch's own cards, the filter is estimated element by
# element against the column's most common values (10 ms for 4,000 cards, most of the
# statement's planning), the join once; the plans are alike (index scans for a few cards, a
# hash join for thousands).
_BATCH_BUNDLES = """(SELECT bundles.* FROM unnest(CAST(:cards AS bigint[])) AS batch (card_id)
    JOIN bundles USING (card_id))"""

# Each new record with the bundles it may draw on, soonest-expiring first, and its round. The
# bundles valid at a moment change along a card's records (in rating order); while each new
# set shares no bundle with the one before, records of different sets cannot compete for
# capacity and are rated in the same round, each set on its own. A set that overlaps the one
# before starts a new round. (A bundle is valid over one stretch of time, so sets in one round
# never share a bundle: within a round, a card's set is known by its first bundle, ``grp``, a
# bigint far cheaper to sort and join on than the array.) Usually every record is rated in
# round 1; the rest wait in ``rating_later``, emptied of an earlier batch's rows by the same
# statement (which does not see the rows it adds).
_BATCH = f"""
    batch AS (
        SELECT id, card_id, kind, quantity, occurred_at, candidates,
               1 + count(*) FILTER (WHERE candidates && previous AND candidates <> previous)
                       OVER w AS round
        FROM (
            SELECT c.*, lag(candidates, 1, '{{}}') OVER w AS previous
            FROM (
                SELECT r.id, r.card_id, r.kind, r.quantity, r.occurred_at,
                       coalesce(array_agg(b.id ORDER BY b.expires_at, b.id)
                                FILTER (WHERE b.id IS NOT NULL), '{{}}') AS candidates
                FROM rating_new r
                LEFT JOIN {_BATCH_BUNDLES} b ON {_MAY_DRAW_ON}
                WHERE r.card_id = ANY (CAST(:cards AS bigint[]))
                -- grouped in the windows' order, so they need no sort of their own
                GROUP BY r.card_id, r.kind, r.occurred_at, r.id, r.quantity
            ) c
            WINDOW w AS (PARTITION BY card_id, kind ORDER BY occurred_at, id)
        ) s
        WINDOW w AS (PARTITION BY card_id, kind ORDER BY occurred_at, id)
    ), cleared AS (
        DELETE FROM rating_later
    ), later AS (
        INSERT INTO rating_later (id, card_id, kind, quantity, occurred_at, candidates, round)
        SELECT id, card_id, kind, quantity, occurred_at, candidates, round FROM batch
        WHERE round > 1
    ),"""

# One round rates the records of that round, each group of one card, kind and set of bundles
# on its own. Records take from their bundles soonest-expiring first, in (occurred_at, id)
# order: record i covers [use_start, use_end) of the group's running usage, bundle j offers
# [cap_start, cap_end) of the running capacity; what record i takes from bundle j is the
# overlap. After the group's bundles comes a boundless offer with no bundle: what a record
# takes from it is its overage. ``taken`` holds what each record takes from where.
_TAKEN_IN_ROUND = f"""
    records AS (
        SELECT id, card_id, kind, quantity, occurred_at, candidates, grp,
               (sum(quantity) OVER w)::bigint - quantity AS use_start,
               (sum(quantity) OVER w)::bigint AS use_end,
               row_number() OVER w = 1 AS leads
        FROM (SELECT *, coalesce(candidates[1], 0) AS grp FROM {{source}} WHERE round = :round) r
        WINDOW w AS (PARTITION BY card_id, kind, grp ORDER BY occurred_at, id)
    ), groups AS (
        SELECT card_id, kind, grp, candidates FROM records WHERE leads
    ), offers AS (
        SELECT card_id, kind, grp, bundle_id, data_bytes_granted, remaining,
               (sum(coalesce(remaining, :unlimited)) OVER v)::bigint
                   - coalesce(remaining, :unlimited) AS cap_start,
               (sum(coalesce(remaining, :unlimited)) OVER v)::bigint AS cap_end
        FROM (
            SELECT s.card_id, s.kind, s.grp, b.id AS bundle_id, b.expires_at,
                   b.data_bytes_granted, {_REMAINING_OF.format(kind="s.kind", b="b")} AS remaining
            FROM groups s JOIN bundles b ON b.id = ANY (s.candidates)
            UNION ALL
            SELECT card_id, kind, grp, NULL, 'infinity', NULL, NULL FROM groups
        ) o
        WINDOW v AS (PARTITION BY card_id, kind, grp ORDER BY expires_at, bundle_id)
    ), taken AS (
        SELECT r.id AS usage_record_id, r.card_id, o.bundle_id, r.kind, r.occurred_at,
               least(r.use_end, o.cap_end) - greatest(r.use_start, o.cap_start) AS amount,
               o.remaining - (greatest(r.use_start, o.cap_start) - o.cap_start)
                   AS balance_before,
               o.remaining IS NOT NULL AS finite, o.cap_start AS priority, o.data_bytes_granted
        FROM records r JOIN offers o
            ON o.card_id = r.card_id AND o.kind = r.kind AND o.grp = r.grp
        WHERE o.cap_end > o.cap_start AND r.use_start < o.cap_end AND o.cap_start < r.use_end
    ),"""

# For the records of cards none of whose bundles are valid at a common moment (the usual case),
# the same comes cheaper, in one round: a record takes from its only bundle what is left of it
# at its turn, and the rest is overage. The other cards are rated by rounds.
_TAKEN_FROM_SINGLE = f"""
    records AS (
        SELECT r.id, r.card_id, r.kind, r.occurred_at, b.id AS bundle_id, b.data_bytes_granted,
               {_LEFT_FOR_RECORD} AS remaining,
               CASE WHEN b.id IS NULL THEN 0
                    ELSE coalesce({_LEFT_FOR_RECORD}, :unlimited)
               END AS capacity,
               (sum(r.quantity) OVER w)::bigint - r.quantity AS use_start,
               (sum(r.quantity) OVER w)::bigint AS use_end
        FROM rating_new r
        LEFT JOIN {_BATCH_BUNDLES} b ON {_MAY_DRAW_ON}
        WHERE r.card_id = ANY (CAST(:cards AS bigint[]))
        WINDOW w AS (PARTITION BY r.card_id, r.kind, b.id ORDER BY r.occurred_at, r.id)
    ), taken AS (
        SELECT id AS usage_record_id, card_id, bundle_id, kind, occurred_at,
               least(use_end, capacity) - use_start AS amount,
               remaining - use_start AS balance_before, remaining IS NOT NULL AS finite,
               0 AS priority, data_bytes_granted
        FROM records WHERE use_start < capacity
        UNION ALL
        SELECT id, card_id, NULL, kind, occurred_at, use_end - greatest(use_start, capacity),
               NULL, false, 1, NULL
        FROM records WHERE use_end > capacity
    ),"""

# What follows from ``taken``, in the same statement: the ledger entries, the overage, the new
# allowances (an active bundle left without data becomes exhausted) and the data thresholds
# reached. It answers what the caller must act on.
_CONSEQUENCES = """
    logged AS (
        -- Every deduction from a counted allowance is a ledger entry pointing at its record.
        INSERT INTO ledger_entries (card_id, bundle_id, account, delta, balance_before,
                                    balance_after, cause, usage_record_id)
        SELECT card_id, bundle_id, kind, -amount, balance_before, balance_before - amount,
               'usage', usage_record_id
        FROM taken WHERE finite
        ORDER BY usage_record_id, priority
    ), uncovered AS (
        INSERT INTO usage_overages (usage_record_id, card_id, kind, quantity, occurred_at)
        SELECT usage_record_id, card_id, kind, amount, occurred_at FROM taken
        WHERE bundle_id IS NULL
        RETURNING card_id, kind
    ), moved AS (
        -- Unlimited allowances too: they take nothing, but record when they were last used.
        UPDATE bundles b SET
            data_bytes_remaining = b.data_bytes_remaining - t.data,
            voice_seconds_remaining = b.voice_seconds_remaining - t.voice,
            sms_count_remaining = b.sms_count_remaining - t.sms,
            state = CASE WHEN b.state = 'active' AND t.data > 0
                          AND b.data_bytes_remaining = t.data THEN 'exhausted'
                         ELSE b.state END,
            last_usage_at = greatest(b.last_usage_at, t.last_at)
        FROM (
            -- bigint like the allowances: a sum of bigint is numeric, slower to subtract
            SELECT bundle_id,
                   coalesce(sum(amount) FILTER (WHERE finite AND kind = 'data'), 0)::bigint
                       AS data,
                   coalesce(sum(amount) FILTER (WHERE finite AND kind = 'voice'), 0)::bigint
                       AS voice,
                   coalesce(sum(amount) FILTER (WHERE finite AND kind = 'sms'), 0)::bigint
                       AS sms,
                   max(occurred_at) AS last_at
            FROM taken WHERE bundle_id IS NOT NULL GROUP BY bundle_id
        ) t, unnest(CAST(:cards AS bigint[])) AS batch (card_id)
        -- (every bundle drawn on is of the statement's cards: said for the planner's sake,
        -- as a join for the reason given at _BATCH_BUNDLES; the cards are distinct)
        WHERE b.id = t.bundle_id AND b.card_id = batch.card_id
        RETURNING b.card_id, b.state, t.data
    ), reached AS (
        -- The first record (in rating order) that left the bundle at or below the level;
        -- a threshold already recorded for the bundle is never recorded again.
        INSERT INTO usage_threshold_events (card_id, bundle_id, threshold_percent,
                                            usage_record_id, crossed_at)
        SELECT DISTINCT ON (a.bundle_id, t.percent)
               a.card_id, a.bundle_id, t.percent, a.usage_record_id, a.occurred_at
        FROM taken a CROSS JOIN (VALUES (75), (90), (100)) AS t(percent)
        WHERE a.finite AND a.kind = 'data' AND a.data_bytes_granted > 0
          AND (a.balance_before - a.amount) * 100 <= a.data_bytes_granted * (100 - t.percent)
        ORDER BY a.bundle_id, t.percent, a.balance_before - a.amount DESC, a.usage_record_id
        ON CONFLICT (bundle_id, threshold_percent) DO NOTHING
        RETURNING id
    )
    SELECT 'threshold' AS what, id, NULL AS kind FROM reached
    UNION ALL SELECT 'overage', card_id, kind FROM uncovered
    UNION ALL SELECT 'exhausted', card_id, 'data' FROM moved
        WHERE state = 'exhausted' AND data > 0
"""
# The rounds also answer how many rounds the batch needs.
_ROUNDS_NEEDED = "UNION ALL SELECT 'rounds', max(round), NULL FROM {source}"

_FIRST_ROUND = text(
    "WITH"
    + _BATCH
    + _TAKEN_IN_ROUND.format(source="batch")
    + _CONSEQUENCES
    + _ROUNDS_NEEDED.format(source="batch")
)
_LATER_ROUND = text(
    "WITH"
    + _TAKEN_IN_ROUND.format(source="rating_later")
    + _CONSEQUENCES
    + _ROUNDS_NEEDED.format(source="rating_later")
)
_SINGLE_BUNDLE_ROUND = text("WITH" + _TAKEN_FROM_SINGLE + _CONSEQUENCES)


@dataclass(slots=True)
class RoundResult:
    threshold_event_ids: list[int] = field(default_factory=list)
    overages: list[tuple[int, str]] = field(default_factory=list)  # (card id, kind)
    exhausted_cards: set[int] = field(default_factory=set)


# Every rated record drew on a bundle (which then remembers its newest use) or went to
# overage, or both; so the newest of the two is the card's newest rated record.
_NEWEST_USAGE = text(
    """
    SELECT greatest(
        (SELECT max(last_usage_at) FROM bundles WHERE card_id = :card_id),
        (SELECT max(occurred_at) FROM usage_overages WHERE card_id = :card_id))
    """
)


def insert_new(
    session: Session, rows: Collection[tuple[str, str, int, str, int, datetime]]
) -> set[tuple[str, str]]:
    """Store the records (source, record id, card id, kind, quantity, occurred at) whose
    key is new; returns the keys that were already stored (distinct keys expected)."""
    _ready_temp_tables(session)
    if not rows:
        return set()
    if len(rows) > _GENERIC_PLANS_UP_TO:
        session.execute(_CUSTOM_PLANS)
    with driver_connection(session).cursor() as cursor, cursor.copy(_COPY_INCOMING) as copy:
        copy.set_types(_INCOMING_TYPES)
        for row in rows:
            copy.write_row(row)
    known: set[tuple[str, str]] = set()
    for source, record_id, cards in session.execute(_INSERT_NEW):
        if source is None:
            session.info[_BATCH_CARDS] = str(cards)
        else:
            known.add((str(source), str(record_id)))
    return known


def lock_cards_and_bundles(session: Session) -> list[int]:
    """Cards (locked by :func:`insert_new`'s own statement), then their bundles that the
    batch may touch, each in primary-key order. Returns the cards whose records may have more
    than one bundle to draw on: those are rated by rounds (:func:`rate_round`), all others by
    :func:`rate_single_bundle`."""
    parameters = {"cards": _batch_cards(session)}
    return sorted(int(card_id) for card_id in session.execute(_LOCK_BUNDLES, parameters).scalars())


def _batch_cards(session: Session) -> str:
    """The cards of the records the session's current batch stored, sorted (array text)."""
    cards: str = session.info[_BATCH_CARDS]
    return cards


def rate_single_bundle(session: Session, into: RoundResult, *, except_cards: list[int]) -> None:
    """Rate the batch's records at once, but those of ``except_cards``."""
    cards = _batch_cards(session)
    if except_cards and cards != "{}":
        skipped = set(map(str, except_cards))
        cards = "{" + ",".join(card for card in cards[1:-1].split(",") if card not in skipped) + "}"
    if cards != "{}":
        parameters = {"unlimited": UNLIMITED, "cards": cards}
        _collect(session.execute(_SINGLE_BUNDLE_ROUND, parameters), into)


def rate_round(session: Session, round_number: int, into: RoundResult, *, cards: list[int]) -> int:
    """Rate one round of the records of ``cards``; adds what happened to ``into`` and returns
    how many rounds they need (round 1 sorts the records into rounds)."""
    statement = _FIRST_ROUND if round_number == 1 else _LATER_ROUND
    parameters = {"round": round_number, "unlimited": UNLIMITED, "cards": cards}
    return max(round_number, _collect(session.execute(statement, parameters), into))


def _collect(rows: Iterable[Sequence[Any]], into: RoundResult) -> int:
    """Adds what a rating statement answered to ``into``; returns the rounds it asked for."""
    rounds = 1
    for what, number, kind in rows:
        if what == "threshold":
            into.threshold_event_ids.append(int(number))
        elif what == "overage":
            into.overages.append((int(number), str(kind)))
        elif what == "exhausted":
            into.exhausted_cards.add(int(number))
        elif number is not None:
            rounds = max(rounds, int(number))
    return rounds


def newest_usage_at(session: Session, card_id: int) -> datetime | None:
    value: datetime | None = session.execute(_NEWEST_USAGE, {"card_id": card_id}).scalar()
    return value


def threshold_event(session: Session, event_id: int) -> UsageThresholdEvent | None:
    return session.get(UsageThresholdEvent, event_id)
