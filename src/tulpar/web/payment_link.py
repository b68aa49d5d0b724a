"""``GET /pay/link/{token}``: the payment link USSD sends by SMS when the wallet cannot pay.
A genuine, unexpired link places the order for its card and plan and sends the payer on to
the provider's pay page (303); an expired (410), forged (400) or no longer payable (409) one
gets a page in the card's language — or the browser's, when the link says nothing we trust —
and changes nothing."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Cookie, Header, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tulpar.kit.languages import LANGUAGE_COOKIE, resolve_language, supported
from tulpar.kit.session import DbSession
from tulpar.ussd import texts
from tulpar.ussd.link_checkout import LinkRefused, open_link
from tulpar.ussd.settings import get_ussd_settings

router = APIRouter(tags=["payments"])

_MESSAGES = {
    410: (texts._("This payment link has expired."), texts._("Dial {code} for a new one.")),
    400: (
        texts._("This payment link is not valid."),
        texts._("Please open the link from your SMS, or dial {code}."),
    ),
    409: (
        texts._("This renewal cannot be paid now."),
        texts._("Please dial {code} or contact Tulpar support."),
    ),
}


@router.get("/pay/link/{token}", include_in_schema=False)
def payment_link(
    token: Annotated[str, Path(max_length=300)],
    session: DbSession,
    accept_language: Annotated[str | None, Header()] = None,
    remembered: Annotated[str | None, Cookie(alias=LANGUAGE_COOKIE)] = None,
) -> Response:
    outcome = open_link(session, token)
    if not isinstance(outcome, LinkRefused):
        return RedirectResponse(outcome.next_url, status_code=303)
    language = (
        supported(outcome.language)
        if outcome.language is not None
        else resolve_language(None, remembered, accept_language)
    )
    return HTMLResponse(_page(outcome, language), status_code=outcome.status)


def _page(refused: LinkRefused, language: str) -> str:
    t = texts.translator(language)
    heading, advice = _MESSAGES[refused.status]
    code = get_ussd_settings().primary_code
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(t('Tulpar payment'))}</title></head>"
        f'<body><h1 data-code="{escape(refused.code)}">{escape(t(heading))}</h1>'
        f"<p>{escape(t(advice).format(code=code))}</p></body></html>"
    )
