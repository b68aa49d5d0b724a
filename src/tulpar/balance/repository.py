"""The balance read model: one statement finds the card and reads everything its balance
shows — the card, all its bundles with their plan codes and whether each counts now, the
wallet, and when the newest rated usage occurred.

A read model is the one exception to "a domain uses another through its service": reading
the card, bundle, plan, wallet and usage tables here, in one statement, is what makes a
balance one round trip instead of seven (and one consistent snapshot instead of seven). Each
part of the statement names the query it must agree with; ``tests/balance`` compares the two
paths on cards in every state. It runs on the driver's cursor (:func:`tulpar.db.driver_rows`):
every balance, on every channel, is this statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tulpar.db import driver_rows
from tulpar.models import BundleState, CardState


@dataclass(frozen=True, slots=True)
class CardFacts:
    id: int
    iccid: str
    msisdn: str | None
    language: str
    state: CardState
    validity_ends_at: datetime | None
    partner_id: int | None


@dataclass(frozen=True, slots=True)
class BundleFigures:
    """A bundle's columns that a balance shows (named as on :class:`tulpar.models.Bundle`)."""

    id: int
    order_id: int | None
    state: BundleState
    starts_at: datetime
    expires_at: datetime
    data_bytes_granted: int | None
    data_bytes_remaining: int | None
    voice_seconds_granted: int | None
    voice_seconds_remaining: int | None
    sms_count_granted: int | None
    sms_count_remaining: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BundleRow:
    bundle: BundleFigures
    plan_code: str
    counts_now: bool  # valid at the moment asked about (it adds to the card's totals)


@dataclass(frozen=True, slots=True)
class BalanceRows:
    card: CardFacts
    bundles: list[BundleRow]  # by start, then id
    wallet_minor: int
    usage_as_of: datetime | None


_CARD_COLUMNS = "c.id, c.iccid, c.msisdn, c.language, c.state, c.validity_ends_at, c.partner_id"
_BUNDLE_COLUMNS = (
    "b.id, b.order_id, b.state, b.starts_at, b.expires_at,"
    " b.data_bytes_granted, b.data_bytes_remaining, b.voice_seconds_granted,"
    " b.voice_seconds_remaining, b.sms_count_granted, b.sms_count_remaining, b.created_at"
)
_CARD_WIDTH, _BUNDLE_WIDTH = 7, 12

# One row per bundle (a card without bundles: one row of NULLs beside the card), by start
# then id (bundle.repository.for_card).
# - counts now: bundle.repository.valid_at (a live state and starts_at <= at < expires_at);
# - the wallet: wallet.repository.balance (no wallet row reads as 0, below);
# - usage as of: rating.repository._NEWEST_USAGE, the newest use any bundle remembers or the
#   newest overage (greatest() skips NULLs); the window runs over the one card's bundles.
_BALANCE = f"""
    SELECT {_CARD_COLUMNS}, {_BUNDLE_COLUMNS}, p.code,
           b.state IN ('scheduled', 'active', 'exhausted')
               AND b.starts_at <= %(at)s AND b.expires_at > %(at)s,
           (SELECT w.balance_minor FROM wallets w WHERE w.card_id = c.id),
           greatest(max(b.last_usage_at) OVER (),
                    (SELECT max(o.occurred_at) FROM usage_overages o WHERE o.card_id = c.id))
    FROM cards c
    LEFT JOIN bundles b ON b.card_id = c.id
    LEFT JOIN plans p ON p.id = b.plan_id
    WHERE {{card_is}}
    ORDER BY b.starts_at, b.id
"""
# On one line, as the server's log and a wire trace show it.
_BALANCE = " ".join(_BALANCE.split())
_BY_ID = _BALANCE.format(card_is="c.id = %(card_id)s")
_BY_ICCID = _BALANCE.format(card_is="c.iccid = %(iccid)s")
# card.repository.by_msisdn: a recycled number may belong to a terminated card and a live
# one; the live card wins, then the newest.
_BY_MSISDN = _BALANCE.format(
    card_is="c.id = (SELECT n.id FROM cards n WHERE n.msisdn = %(msisdn)s"
    " ORDER BY CASE WHEN n.state = 'terminated' THEN 1 ELSE 0 END, n.id DESC LIMIT 1)"
)


def by_card_id(session: Session, card_id: int, *, at: datetime) -> BalanceRows | None:
    return _rows(driver_rows(session, _BY_ID, {"card_id": card_id, "at": at}))


def by_iccid(session: Session, iccid: str, *, at: datetime) -> BalanceRows | None:
    return _rows(driver_rows(session, _BY_ICCID, {"iccid": iccid, "at": at}))


def by_msisdn(session: Session, msisdn: str, *, at: datetime) -> BalanceRows | None:
    return _rows(driver_rows(session, _BY_MSISDN, {"msisdn": msisdn, "at": at}))


def _card(values: tuple[Any, ...]) -> CardFacts:
    id_, iccid, msisdn, language, state, validity_ends_at, partner_id = values
    return CardFacts(id_, iccid, msisdn, language, CardState(state), validity_ends_at, partner_id)


def _bundle(values: tuple[Any, ...]) -> BundleFigures:
    return BundleFigures(values[0], values[1], BundleState(values[2]), *values[3:])


def _rows(rows: list[tuple[Any, ...]]) -> BalanceRows | None:
    if not rows:
        return None
    first = rows[0]
    bundles_at = _CARD_WIDTH + _BUNDLE_WIDTH
    return BalanceRows(
        card=_card(first[:_CARD_WIDTH]),
        bundles=[
            BundleRow(
                bundle=_bundle(row[_CARD_WIDTH:bundles_at]),
                plan_code=row[bundles_at] or "?",
                counts_now=bool(row[bundles_at + 1]),
            )
            for row in rows
            if row[_CARD_WIDTH] is not None
        ],
        wallet_minor=first[bundles_at + 2] or 0,
        usage_as_of=first[bundles_at + 3],
    )


_BUNDLES_PAGE = f"""
    SELECT {_BUNDLE_COLUMNS}, p.code
    FROM bundles b JOIN plans p ON p.id = b.plan_id
    WHERE b.card_id = %(card_id)s {{before}}
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT %(limit)s
"""
_BUNDLES_PAGE = " ".join(_BUNDLES_PAGE.split())
_FIRST_PAGE = _BUNDLES_PAGE.format(before="")
_LATER_PAGE = _BUNDLES_PAGE.format(before="AND (b.created_at, b.id) < (%(created_at)s, %(id)s)")


def bundles_page(
    session: Session, card_id: int, *, before: tuple[datetime, int] | None, limit: int
) -> list[BundleRow]:
    """Up to ``limit`` of a card's bundles created before ``before`` (created_at, id), newest
    first (``counts_now`` is not asked here: False)."""
    params: dict[str, Any] = {"card_id": card_id, "limit": limit}
    if before is not None:
        params |= {"created_at": before[0], "id": before[1]}
    rows = driver_rows(session, _FIRST_PAGE if before is None else _LATER_PAGE, params)
    return [
        BundleRow(
            bundle=_bundle(row[:_BUNDLE_WIDTH]), plan_code=row[_BUNDLE_WIDTH], counts_now=False
        )
        for row in rows
    ]
