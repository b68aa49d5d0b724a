"""Public receipt pages: the receipt (HTML, PDF) and the verification page its QR opens.
The public id is an unguessable capability; the card is always masked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tulpar.kit.languages import LANGUAGE_COOKIE, matching_language, resolve_language
from tulpar.kit.session import DbSession
from tulpar.models import Receipt
from tulpar.receipt import documents, service, signing

router = APIRouter(tags=["receipts"], include_in_schema=False)


def _language(request: Request, receipt: Receipt | None) -> str:
    """``?lang=``, else the language this browser chose before, else the card's, else the
    browser's ``Accept-Language``, else Simplified Chinese."""
    remembered = matching_language(request.cookies.get(LANGUAGE_COOKIE))
    if remembered is None and receipt is not None:
        remembered = receipt.language
    return resolve_language(
        request.query_params.get("lang"), remembered, request.headers.get("accept-language")
    )


def _not_found(request: Request) -> HTMLResponse:
    return HTMLResponse(documents.not_found_html(_language(request, None)), status_code=404)


@router.get("/receipts/{public_id}.pdf")
def receipt_pdf(public_id: str, request: Request, session: DbSession) -> Response:
    receipt = service.get(session, public_id)
    if receipt is None:
        return _not_found(request)
    body = documents.receipt_pdf(
        receipt,
        _language(request, receipt),
        plan_names=service.plan_names(session, receipt),
        payment=service.payment_detail(session, receipt),
        fiscal=documents.Fiscal.of(service.fiscal_registration(session, receipt)),
    )
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{receipt.number}.pdf"'},
    )


@router.get("/receipts/{public_id}", response_class=HTMLResponse)
def receipt_page(public_id: str, request: Request, session: DbSession) -> HTMLResponse:
    receipt = service.get(session, public_id)
    if receipt is None:
        return _not_found(request)
    html = documents.receipt_html(
        receipt,
        _language(request, receipt),
        plan_names=service.plan_names(session, receipt),
        payment=service.payment_detail(session, receipt),
        fiscal=documents.Fiscal.of(service.fiscal_registration(session, receipt)),
    )
    return HTMLResponse(html)


@router.get("/verify/keys")
def verification_keys() -> dict[str, object]:
    """The public keys receipts are signed with (Ed25519, raw 32 bytes in base64url), so
    anyone can check a receipt's signature offline. Declared before ``/verify/{public_id}``."""
    return {
        "algorithm": "Ed25519",
        "keys": [
            {"key_id": key.key_id, "public_key": key.public_key, "current": key.current}
            for key in signing.published_keys()
        ],
    }


@router.get("/verify/{public_id}", response_class=HTMLResponse)
def verify_page(
    public_id: str, request: Request, session: DbSession, s: str | None = None
) -> HTMLResponse:
    """Says plainly whether this is a genuine Tulpar receipt (masked card, amount, date)."""
    verification = service.verify(session, public_id, s)
    language = _language(request, verification.receipt)
    fiscal = (
        None
        if verification.receipt is None
        else documents.Fiscal.of(service.fiscal_registration(session, verification.receipt))
    )
    return HTMLResponse(documents.verification_html(verification.receipt, language, fiscal=fiscal))
