"""Page 6, receipts: the card's receipts with their orders, and each receipt (HTML, PDF) at
an address of the order, so only the card's traveller reaches it. The public verification
page is the receipt package's own (``/verify/…``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tulpar.auth.identity import Caller
from tulpar.errors import TulparError
from tulpar.kit.session import DbSession
from tulpar.models import Receipt
from tulpar.order import service as order_service
from tulpar.receipt import documents
from tulpar.receipt import service as receipt_service
from tulpar.web.traveller.pages import PageRoute, language_of, render, traveller

router = APIRouter(route_class=PageRoute, include_in_schema=False)

OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class ReceiptNotFoundError(TulparError):
    status = 404
    code = "receipt_not_found"
    title = "No receipt for this order yet"


def _receipt_of_order(session: Session, caller: Caller, order_id: int) -> Receipt:
    order = order_service.visible_order(session, caller, order_id)
    receipt = receipt_service.for_order(session, order.id)
    if receipt is None:
        raise ReceiptNotFoundError()
    return receipt


@router.get("/receipts")
def receipts_page(request: Request, session: DbSession) -> Response:
    caller = traveller(session, request)
    receipts = receipt_service.for_card(session, caller.card_id or 0)
    names = {receipt.id: receipt_service.plan_names(session, receipt) for receipt in receipts}
    return render(request, "receipts.html", receipts=receipts, names=names)


@router.get("/orders/{order_id}/receipt")
def receipt_page(order_id: OrderId, request: Request, session: DbSession) -> Response:
    receipt = _receipt_of_order(session, traveller(session, request), order_id)
    html = documents.receipt_html(
        receipt,
        language_of(request),
        plan_names=receipt_service.plan_names(session, receipt),
        payment=receipt_service.payment_detail(session, receipt),
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/orders/{order_id}/receipt.pdf")
def receipt_pdf(order_id: OrderId, request: Request, session: DbSession) -> Response:
    receipt = _receipt_of_order(session, traveller(session, request), order_id)
    body = documents.receipt_pdf(
        receipt,
        language_of(request),
        plan_names=receipt_service.plan_names(session, receipt),
        payment=receipt_service.payment_detail(session, receipt),
    )
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{receipt.number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
