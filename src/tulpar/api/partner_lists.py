"""The partner API's paged lists: its orders, and a card's bundles and daily usage.

Each reads newest first by keyset and answers ``next_cursor`` (see
:mod:`tulpar.kit.pagination`): a walk sees every row that existed when it began exactly
once, however many are added meanwhile."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from tulpar.api.dependencies import identified, limit_card_reads
from tulpar.api.schemas.balance import Allowance, MoneyAmount
from tulpar.api.schemas.partner_lists import (
    BundleListItem,
    BundlePage,
    DailyUsageItem,
    DailyUsagePage,
    OrderListItem,
    OrderPage,
)
from tulpar.balance import service as balance
from tulpar.config import get_settings
from tulpar.identifiers import parse_card_reference
from tulpar.kit.credentials import presented_credential
from tulpar.kit.pagination import (
    BY_DAY,
    BY_TIME_AND_ID,
    DEFAULT_LIMIT,
    MAX_CURSOR_LENGTH,
    MAX_LIMIT,
    Cursors,
    Keyset,
    Page,
)
from tulpar.kit.session import read_only
from tulpar.models import OrderState
from tulpar.order import listing as order_listing
from tulpar.usage import daily

router = APIRouter(prefix="/v1", tags=["partner lists"])
P = TypeVar("P")

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT})")
]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="The previous page's `next_cursor`, unchanged (omit for the first page)",
    ),
]
CardFilter = Annotated[
    str | None,
    Query(min_length=1, max_length=40, description="Only this card's (ICCID or phone number)"),
]

_PROBLEM: dict[str, object] = {"content": {"application/problem+json": {}}}
_AUTH: dict[int | str, dict[str, object]] = {
    401: {**_PROBLEM, "description": "Missing or invalid key (`unauthorized`)"},
    403: {**_PROBLEM, "description": "A key without the `partner` scope (`forbidden`)"},
}
_ORDER_REFUSALS: dict[int | str, dict[str, object]] = {
    **_AUTH,
    404: {**_PROBLEM, "description": "`card` is not one of this partner's (`card_not_found`)"},
    422: {
        **_PROBLEM,
        "description": "`cursor_invalid` (changed, or issued for another list or filter),"
        " `invalid_card`, or `invalid_input` (limit, state)",
    },
    429: {**_PROBLEM, "description": "The partner's own limit (`rate_limited`)"},
}
_CARD_LIST_REFUSALS: dict[int | str, dict[str, object]] = {
    **_AUTH,
    404: {**_PROBLEM, "description": "Unknown card, or not this caller's (`card_not_found`)"},
    422: {
        **_PROBLEM,
        "description": "`cursor_invalid` (changed, or issued for another card or list),"
        " `invalid_card`, or `invalid_input` (limit)",
    },
    429: {
        **_PROBLEM,
        "description": "Too many reads of this card, counted with its balance and usage reads,"
        " or the partner's own limit (`rate_limited`, `retry_after_seconds`)",
    },
}


def cursor_key() -> bytes:
    """The key cursors are signed with, derived from the OTP key (a secret production refuses
    to run with at its placeholder) for this one purpose, so no new secret must be set."""
    secret = get_settings().otp_secret.encode()
    return hmac.new(secret, b"tulpar:pagination-cursor:v1", hashlib.sha256).digest()


def _cursors(keyset: Keyset[P], *parts: object) -> Cursors[P]:
    return Cursors(keyset, scope="|".join(str(part) for part in parts), key=cursor_key())


def _card_key(card: str) -> str:
    # The number as parsed, so "+7 701…" and "8701…" page the same list.
    return parse_card_reference(card).value


@router.get("/orders", response_model=OrderPage, responses=_ORDER_REFUSALS)
async def list_orders(
    request: Request,
    state: OrderState | None = None,
    card: CardFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> OrderPage:
    """This partner's orders (placed with any of its keys), newest first; optionally only
    those in one `state` or for one `card`."""
    credential = presented_credential(request)

    def read(session: Session) -> Page[order_listing.ListedOrder]:
        caller = identified(request, session, credential)
        card_key = None if card is None else _card_key(card)
        cursors = _cursors(BY_TIME_AND_ID, "orders", caller.key, state, card_key)
        rows = order_listing.partner_orders(
            session, caller, state=state, card=card, before=cursors.decode(cursor), limit=limit + 1
        )
        return cursors.page(rows, limit=limit, position_of=_order_position)

    page = await read_only(request, read)
    return OrderPage(items=[_order_item(row) for row in page.items], next_cursor=page.next_cursor)


def _order_position(row: order_listing.ListedOrder) -> tuple[datetime, int]:
    return row.order.created_at, row.order.id


def _order_item(row: order_listing.ListedOrder) -> OrderListItem:
    order = row.order
    return OrderListItem(
        id=order.id,
        kind=order.kind.value,
        state=order.state.value,
        iccid=row.iccid,
        plan=row.plan_code,
        channel=order.channel.value,
        amount=MoneyAmount(amount_minor=order.amount_minor, currency=order.currency),
        promo_code=order.promo_code,
        created_at=order.created_at,
        state_changed_at=order.state_changed_at,
    )


@router.get("/cards/{card}/bundles", response_model=BundlePage, responses=_CARD_LIST_REFUSALS)
async def list_bundles(
    card: str, request: Request, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> BundlePage:
    """A card's bundles in every state (scheduled, active, exhausted, expired, revoked),
    newest first, each with what it granted and has left: for the partner that sold the
    card, or the traveller holding it."""
    credential = presented_credential(request)

    def read(session: Session) -> Page[balance.ListedBundle]:
        caller = identified(request, session, credential)
        limit_card_reads(request, caller, card)
        cursors = _cursors(BY_TIME_AND_ID, "bundles", caller.key, _card_key(card))
        rows = balance.bundles_page(
            session, caller, card, before=cursors.decode(cursor), limit=limit + 1
        )
        return cursors.page(
            rows, limit=limit, position_of=lambda row: (row.created_at, row.balance.id)
        )

    page = await read_only(request, read)
    return BundlePage(items=[_bundle_item(row) for row in page.items], next_cursor=page.next_cursor)


def _allowance(allowance: balance.Allowance) -> Allowance:
    return Allowance(
        unlimited=allowance.unlimited, remaining=allowance.remaining, granted=allowance.granted
    )


def _bundle_item(row: balance.ListedBundle) -> BundleListItem:
    bundle = row.balance
    return BundleListItem(
        id=bundle.id,
        plan_code=bundle.plan_code,
        state=bundle.state,
        starts_at=bundle.starts_at,
        expires_at=bundle.expires_at,
        data_bytes=_allowance(bundle.data_bytes),
        voice_seconds=_allowance(bundle.voice_seconds),
        sms_count=_allowance(bundle.sms_count),
        order_id=row.order_id,
        created_at=row.created_at,
    )


@router.get(
    "/cards/{card}/usage/daily", response_model=DailyUsagePage, responses=_CARD_LIST_REFUSALS
)
async def daily_usage(
    card: str, request: Request, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> DailyUsagePage:
    """What the card used each day (Kazakhstan days, Asia/Almaty), newest day first: data
    bytes, voice seconds and SMS, whether a bundle covered them or not. Days without usage
    are left out. For the partner that sold the card, or the traveller holding it."""
    credential = presented_credential(request)

    def read(session: Session) -> Page[daily.DailyUsage]:
        caller = identified(request, session, credential)
        limit_card_reads(request, caller, card)
        cursors = _cursors(BY_DAY, "usage-daily", caller.key, _card_key(card))
        rows = daily.daily_totals(
            session, caller, card, before_day=cursors.decode(cursor), limit=limit + 1
        )
        return cursors.page(rows, limit=limit, position_of=_day_of)

    page = await read_only(request, read)
    return DailyUsagePage(
        items=[
            DailyUsageItem(
                day=row.day,
                data_bytes=row.data_bytes,
                voice_seconds=row.voice_seconds,
                sms_count=row.sms_count,
            )
            for row in page.items
        ],
        next_cursor=page.next_cursor,
    )


def _day_of(row: daily.DailyUsage) -> date:
    return row.day
