"""Store console pages (/store): find a card, the card with the sale forms (renewal with each
plan's new validity, or a wallet top-up; cash or terminal), the thermal receipt with its
Print button (and the PDF), and the day close. Every decision is the services' (tulpar.counter,
tulpar.fulfilment.store_sale), on the signed-in caller."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated

import segno
import structlog
from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import FileResponse

from tulpar.catalog import service as catalog_service
from tulpar.counter import days, fiscal, lookup
from tulpar.counter import receipts as counter_receipts
from tulpar.errors import InvalidInputError, TulparError
from tulpar.fulfilment import pricing, store_sale
from tulpar.kit.session import DbSession
from tulpar.models import Channel
from tulpar.receipt import documents
from tulpar.web.staff.pages import StaffPageRoute, redirect
from tulpar.web.staff.session import StaffPage, require_staff_form, require_staff_page
from tulpar.web.store.pages import STATIC, render

log = structlog.get_logger()
router = APIRouter(prefix="/store", route_class=StaffPageRoute, include_in_schema=False)

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Seller = Annotated[StaffPage, Depends(require_staff_page("store.sell"))]
Viewer = Annotated[StaffPage, Depends(require_staff_page("store.receipt"))]
DayViewer = Annotated[StaffPage, Depends(require_staff_page("store.day_view"))]
SellForm = Annotated[StaffPage, Depends(require_staff_form("store.sell"))]
CloseForm = Annotated[StaffPage, Depends(require_staff_form("store.day_close"))]
ReopenForm = Annotated[StaffPage, Depends(require_staff_form("store.day_reopen"))]
Field = Annotated[str, Form(max_length=120)]


@router.get("/static/{name}")
def static_file(name: Annotated[str, Path(pattern=r"^(receipt\.css|print\.js)$")]) -> Response:
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return FileResponse(STATIC / name, media_type=media, headers={"Cache-Control": "max-age=300"})


@router.get("")
def find_page(request: Request, session: DbSession, page: Seller) -> Response:
    query = request.query_params.get("q", "")[:40].strip()
    if query:
        try:
            found = lookup.find_card(session, page.caller, query)
        except TulparError as error:
            if error.status not in (404, 422):
                raise
            return render(request, "find.html", page=page, query=query, error=error)
        return redirect(request, f"/store/cards/{found.card.id}")
    return render(request, "find.html", page=page, query="", error=None)


@router.get("/cards/{card_id}")
def card_page(card_id: Id, request: Request, session: DbSession, page: Seller) -> Response:
    found = lookup.view_card(session, page.caller, card_id)
    offers = []
    for plan in catalog_service.sellable_plans(session, channel=Channel.store):
        try:
            quote = pricing.quote(
                session, page.caller, card=found.card.iccid, plan=plan.code, currency="KZT"
            )
        except TulparError:
            continue
        offers.append(quote)
    return render(
        request,
        "card.html",
        page=page,
        found=found,
        offers=offers,
        form_token=secrets.token_urlsafe(16),
    )


@router.post("/cards/{card_id}/sell")
def sell(
    card_id: Id,
    request: Request,
    session: DbSession,
    page: SellForm,
    idempotency_key: Field = "",
    plan: Field = "",
    amount: Field = "",
    method: Field = "",
    terminal_reference: Field = "",
    promo_code: Field = "",
) -> Response:
    found = lookup.view_card(session, page.caller, card_id)
    top_up = None
    if not plan:
        text = amount.strip().replace(" ", "")
        if not text.isdigit() or len(text) > 9:
            raise InvalidInputError("Give the top-up amount in tenge, a whole number")
        top_up = int(text) * 100
    try:
        sale = store_sale.sell(
            session,
            page.caller,
            found.card.iccid,
            plan_code=plan or None,
            top_up_amount=top_up,
            method=method,
            terminal_reference=terminal_reference or None,
            idempotency_key=idempotency_key,
            promo_code=promo_code.strip() or None,
        )
    except TulparError:
        # A refused sale leaves nothing behind (the page's lookup audit included): the error
        # page is rendered by the route class, after which the session would be committed.
        session.rollback()
        raise
    session.commit()
    try:  # the operator at once; when it is down, the job retries
        fiscal.attempt(sale.registration.id)
    except Exception as error:
        log.warning("store.fiscal_deferred", error=str(error))
    return redirect(request, f"/store/receipts/{sale.receipt.public_id}")


@router.get("/receipts/{public_id}")
def receipt_page(
    public_id: Annotated[str, Path(max_length=32)],
    request: Request,
    session: DbSession,
    page: Viewer,
) -> Response:
    shown = counter_receipts.store_receipt(session, page.caller, public_id)
    traveller, clerk = counter_receipts.views(session, shown, page.language)
    qr_svg = segno.make(traveller.verification_url, error="m").svg_inline(scale=3, border=2)
    return render(
        request,
        "receipt.html",
        page=page,
        shown=shown,
        traveller=traveller,
        clerk=clerk,
        traveller_labels=counter_receipts.labels(traveller),
        clerk_labels=counter_receipts.labels(clerk),
        bilingual=traveller.language != clerk.language,
        qr_svg=qr_svg,
        stores_url=documents.stores_url(),
    )


@router.get("/receipts/{public_id}/pdf")
def receipt_pdf(
    public_id: Annotated[str, Path(max_length=32)], session: DbSession, page: Viewer
) -> Response:
    shown = counter_receipts.store_receipt(session, page.caller, public_id)
    return Response(
        counter_receipts.pdf(session, shown),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{shown.receipt.number}.pdf"',
            "Cache-Control": "no-store",
        },
    )


def _day(raw: str | None) -> date:
    if not raw:
        return days.business_date()
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise InvalidInputError("A day looks like 2026-12-05") from None


@router.get("/day")
def day_page(request: Request, session: DbSession, page: DayViewer) -> Response:
    caller = page.caller
    day = _day(request.query_params.get("date"))
    # Support and admin have no store: they pick one (?store=) and see its whole day.
    store_id = days.store_for(session, caller, _store(request.query_params.get("store")))
    whole_store = request.query_params.get("scope") == "store" or caller.store_id is None
    staff_id = None if whole_store else caller.staff_id
    figures, closed = days.view(session, caller, store_id=store_id, day=day, staff_id=staff_id)
    return render(
        request,
        "day.html",
        page=page,
        day=day,
        figures=figures,
        closed=closed,
        whole_store=whole_store,
        staff_id=staff_id,
        store_id=store_id,
    )


@router.post("/day/close")
def close_day(
    request: Request,
    session: DbSession,
    page: CloseForm,
    day: Field = "",
    scope: Field = "",
) -> Response:
    when = _day(day)
    days.close(session, page.caller, day=when, whole_store=scope == "store")
    suffix = "&scope=store" if scope == "store" else ""
    return redirect(request, f"/store/day?date={when.isoformat()}{suffix}")


@router.post("/day/reopen")
def reopen_day(
    request: Request,
    session: DbSession,
    page: ReopenForm,
    day: Field = "",
    staff_id: Field = "",
    store_id: Field = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    when = _day(day)
    who = int(staff_id) if staff_id.isdigit() else None
    store = days.store_for(session, page.caller, _store(store_id))
    days.reopen(session, page.caller, store_id=store, day=when, staff_id=who, reason=reason)
    suffix = "" if who is not None else "&scope=store"
    return redirect(request, f"/store/day?date={when.isoformat()}&store={store}{suffix}")


def _store(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise InvalidInputError("A store is given by its number")
    return int(text)
