"""The USSD channel's words, one gettext catalogue (``locales/<language>.po``) with English
message ids, shared by the menu and the payment-link pages."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from tulpar.kit.i18n import translations

LOCALES = Path(__file__).parent / "locales"
# Chinese lists with the enumeration comma.
LIST_SEPARATOR = {"zh-Hans": "、"}


class Ending(enum.StrEnum):
    """Why a dialogue ended: each has its END text."""

    paid = "paid"
    link_sent = "link_sent"
    details_sent = "details_sent"
    goodbye = "goodbye"
    unknown_number = "unknown_number"
    card_terminated = "card_terminated"
    card_suspended = "card_suspended"
    unknown_service = "unknown_service"
    not_understood = "not_understood"
    session_expired = "session_expired"
    plan_unavailable = "plan_unavailable"
    unavailable = "unavailable"


def _(message: str) -> str:
    """Marks a message for extraction; translated when shown."""
    return message


@dataclass(frozen=True, slots=True)
class Translate:
    language: str

    def __call__(self, message: str) -> str:
        return translations(LOCALES, self.language).gettext(message)


def translator(language: str) -> Translate:
    return Translate(language)


def t(language: str, message: str) -> str:
    return Translate(language)(message)


ENDINGS: dict[str, str] = {
    "paid": _("Paid from your wallet. Order {order}. An SMS confirms when the plan is active."),
    "link_sent": _("We sent a payment link by SMS. It is valid for {minutes} minutes."),
    "details_sent": _("Your balance is on its way by SMS."),
    "goodbye": _("Thank you for using Tulpar."),
    "unknown_number": _("This number has no Tulpar plan."),
    "card_terminated": _(
        "This card has ended and its number was recycled. Please get a new Tulpar eSIM."
    ),
    "card_suspended": _("This card is suspended. Please contact Tulpar support."),
    "unknown_service": _("Tulpar answers on {code}. Please dial {code}."),
    "not_understood": _("Sorry, we did not understand that. Please dial {code} again."),
    "session_expired": _("This session has ended. Please dial {code} again."),
    "plan_unavailable": _("This plan cannot be bought now. Please dial {code} again."),
    "unavailable": _("Tulpar is busy. Please try again in a minute."),
}


def ending(reason: Ending, language: str) -> str:
    return t(language, ENDINGS[reason.value])
