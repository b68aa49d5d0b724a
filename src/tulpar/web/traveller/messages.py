"""What a refusal says to the traveller, by the refusal's stable code, in their language.
The texts are message ids of this package's catalogue (``locales/``), like the templates'."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tulpar import clock
from tulpar.errors import TulparError
from tulpar.kit.format import formatter_for
from tulpar.kit.i18n import translations

LOCALES = Path(__file__).parent / "locales"

GENERIC = "Something went wrong on our side. Please try again in a minute."
# code → message id; %(wait)s is filled in with how long to wait, where there is one.
BY_CODE = {
    "invalid_card": (
        "Enter the card's ICCID (19 or 20 digits starting with 89) or its phone number."
    ),
    "invalid_iccid": "This ICCID is not valid: check the digits on the eSIM card or its QR letter.",
    "invalid_msisdn": "This phone number is not valid: enter it like +7 701 123 4567.",
    "otp_invalid": "The code is wrong or has expired.",
    "otp_locked": "Too many wrong codes. Ask for a new code.",
    "otp_resend_too_soon": "A code was sent moments ago. You can ask for another in %(wait)s.",
    "otp_rate_limited": "Too many codes were asked for. Try again in %(wait)s.",
    "card_not_found": "We could not find this card.",
    "card_terminated": (
        "The grace period of this card has ended and its number was recycled, so it "
        "cannot be renewed. Please get a new eSIM."
    ),
    "card_suspended": "This card is suspended. Please ask support for help.",
    "card_not_renewable": "This card cannot be renewed right now. Please ask support for help.",
    "plan_not_found": "This plan does not exist (any more). Please choose another one.",
    "plan_not_on_channel": "This plan cannot be bought online. Please choose another one.",
    "currency_not_offered": "This plan cannot be paid in that currency.",
    "order_not_found": "We could not find this order.",
    "page_not_found": "There is no such page. Check the address or start from your card.",
    "order_not_payable": "This order cannot be paid any more. Please choose a plan again.",
    "receipt_not_found": "There is no receipt for this order yet.",
    "ticket_not_found": "We could not find this support request.",
    "payment_provider_unavailable": (
        "Online payment is not available right now. Please try again later."
    ),
    "idempotency_key_reused": "This form was already sent. Please start again from the plans page.",
    "csrf_rejected": "This form has expired. Please go back, reload the page and send it again.",
    "invalid_input": "Some of what was entered is not valid. Please check it and try again.",
    "idempotency_key_required": (
        "This form has expired. Please go back, reload the page and send it again."
    ),
    "message_invalid": "Please write your question (up to 2,000 characters).",
    "promo_code_unknown": "This promotion code does not exist. Check it and try again.",
    "promo_code_expired": "This promotion code has expired.",
    "promo_code_used_up": "This promotion code has been used up.",
    "promo_code_not_applicable": "This promotion code does not apply to this plan or card.",
}
ATTEMPTS_LEFT = "Attempts left: %(attempts)s."
WAIT_SECONDS = "%(seconds)s s"


def wait_text(language: str, seconds: int) -> str:
    """How long to wait: ``45 s`` under two minutes, else ``1 h 5 min`` as the formatter
    writes a countdown."""
    if seconds < 120:
        return translations(LOCALES, language).gettext(WAIT_SECONDS) % {"seconds": seconds}
    now = clock.now()
    return formatter_for(language).countdown(now + timedelta(seconds=seconds), now)


def for_error(error: TulparError, language: str) -> str:
    """The sentence shown for ``error`` (a generic one for codes pages never meet)."""
    gettext = translations(LOCALES, language).gettext
    text = gettext(BY_CODE.get(error.code, GENERIC))
    retry_after = error.extra.get("retry_after_seconds")
    if "%(wait)s" in text:
        text = text % {"wait": wait_text(language, int(retry_after or 60))}
    attempts = error.extra.get("attempts_left")
    if error.code == "otp_invalid" and isinstance(attempts, int):
        text += " " + gettext(ATTEMPTS_LEFT) % {"attempts": attempts}
    return text


def all_message_ids() -> set[str]:
    """Every message id this module may show (the catalogue test checks each is there)."""
    return {GENERIC, ATTEMPTS_LEFT, WAIT_SECONDS, *BY_CODE.values()}
