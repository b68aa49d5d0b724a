"""SMS texts, one gettext message per template (``locales/<language>.po``); raw values
(datetimes, bytes, minor units) read as the kit's formatter writes them on every channel."""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tulpar.kit.format import formatter_for
from tulpar.kit.i18n import translations

LOCALES = Path(__file__).parent / "locales"

BALANCE_KEYS = ("validity_ends_at", "data_bytes", "voice_seconds", "sms_count", "wallet_minor")
# A promotion applied to the order (tulpar.promotion): ``promotion`` (its names by language)
# with ``discount_minor``, ``bonus_data_bytes`` and ``bonus_days`` in the context adds this
# sentence to the templates that take it.
PROMOTION_KEYS = ("promotion", "discount_minor", "bonus_data_bytes", "bonus_days")


def _(message: str) -> str:
    """Marks a message for extraction; translated at render time."""
    return message


@dataclass(frozen=True, slots=True)
class Template:
    message: str
    required: tuple[str, ...]
    # Reminders and promotions: not sent to a card that texted STOP. Codes, confirmations
    # and answers to the traveller's own requests are never marketing.
    marketing: bool = False
    # Whether a promotion in the context is told (PROMOTION_NOTE after the message).
    tells_promotion: bool = False


TEMPLATES: dict[str, Template] = {
    "otp": Template(
        _("Tulpar code: {code}. Valid for 5 minutes. Never share it."),
        ("code",),
    ),
    "renewal_confirmed": Template(
        _(
            "Tulpar: {plan} active until {valid_until}. Left: data {data}, calls {voice},"
            " SMS {sms}. Wallet {wallet}."
        ),
        ("plan", *BALANCE_KEYS),
        tells_promotion=True,
    ),
    "renewal_refunded": Template(
        _("Tulpar: we could not apply {plan} (order {order}). {amount} has been refunded."),
        ("plan", "order", "amount_minor", "currency"),
    ),
    # USSD *100#, "2": the full balance by SMS (with and without a plan running).
    # USSD renewal the wallet cannot pay: {link} is the signed payment link (tulpar.ussd.links).
    "ussd_payment_link": Template(
        _("Tulpar: to pay {amount} for {plan}, open {link} within 15 minutes."),
        ("plan", "amount_minor", "currency", "link"),
    ),
    "renewal_failed": Template(
        _(
            "Tulpar: the renewal of {plan} (order {order}) failed. Please try again or"
            " contact support."
        ),
        ("plan", "order"),
    ),
    # Support console: money given back by support, and support's answer to a ticket.
    "refund_issued": Template(
        _("Tulpar: {amount} for order {order} is being refunded to your original payment."),
        ("order", "amount_minor", "currency"),
    ),
    "support_reply": Template(
        _("Tulpar support (request {ticket}): {message}"),
        ("ticket", "message"),
    ),
    "topup_confirmed": Template(
        _("Tulpar: your wallet was topped up with {amount}. Wallet balance: {wallet}."),
        ("amount_minor", "currency", "wallet_minor"),
    ),
    # Answers to the keywords a traveller texts us (BAL / 余额 / БАЛАНС / ҚАЛДЫҚ, STOP / 退订).
    "balance_reply": Template(
        _(
            "Tulpar balance: valid until {valid_until}. Left: data {data}, calls {voice},"
            " SMS {sms}. Wallet {wallet}."
        ),
        BALANCE_KEYS,
    ),
    "balance_reply_no_plan": Template(
        _("Tulpar balance: no active plan. Wallet {wallet}. Dial *100# to renew."),
        ("wallet_minor",),
    ),
    "stop_confirmed": Template(
        _(
            "Tulpar: you will get no more reminders or offers. Codes and payment"
            " confirmations still arrive."
        ),
        (),
    ),
    # Reminders (tulpar.reminder): each offers the quickest ways to renew, *100# and {link}
    # (settings.public_base_url). Marketing-class: STOP opts out of reminders.
    "reminder_expiry": Template(
        _("Tulpar: your plan ends {valid_until}. Renew: dial *100# or open {link}"),
        ("validity_ends_at", "link"),
        marketing=True,
    ),
    "reminder_expired": Template(
        _(
            "Tulpar: your plan has expired. Renew within {days} days to keep your number:"
            " dial *100# or open {link}"
        ),
        ("days", "link"),
        marketing=True,
    ),
    "reminder_termination": Template(
        _(
            "Tulpar: in 3 days your number will be recycled. Renew now to keep it:"
            " dial *100# or open {link}"
        ),
        ("link",),
        marketing=True,
    ),
    "reminder_data_75": Template(
        _("Tulpar: you have used 75% of your data. Renew: dial *100# or open {link}"),
        ("link",),
        marketing=True,
    ),
    "reminder_data_90": Template(
        _("Tulpar: you have used 90% of your data. Renew: dial *100# or open {link}"),
        ("link",),
        marketing=True,
    ),
    "reminder_data_100": Template(
        _("Tulpar: you have used all your data. Renew: dial *100# or open {link}"),
        ("link",),
        marketing=True,
    ),
}


PROMOTION_NOTE = _("Promotion {promotion}: {gift}.")
GIFT_DISCOUNT = _("{amount} off")
GIFT_DATA = _("+{data} data")
GIFT_DAYS = _("+{days} days")


def _promotion_note(
    context: Mapping[str, object], language: str, tr: gettext.NullTranslations
) -> str:
    shown = formatter_for(language)
    gifts = []
    if discount := int(str(context.get("discount_minor") or 0)):
        amount = shown.money(discount, str(context.get("currency", "KZT")))
        gifts.append(tr.gettext(GIFT_DISCOUNT).format(amount=amount))
    if data := int(str(context.get("bonus_data_bytes") or 0)):
        gifts.append(tr.gettext(GIFT_DATA).format(data=shown.data(data)))
    if days := int(str(context.get("bonus_days") or 0)):
        gifts.append(tr.gettext(GIFT_DAYS).format(days=days))
    name = _plan_name(context["promotion"], language)
    return tr.gettext(PROMOTION_NOTE).format(promotion=name, gift=", ".join(gifts))


def _plan_name(plan: object, language: str) -> str:
    if isinstance(plan, Mapping):
        return str(plan.get(language) or plan.get("en") or next(iter(plan.values())))
    return str(plan)


def _quantity(value: object, present: Callable[[int], str], unlimited: str) -> str:
    return unlimited if value is None else present(int(str(value)))


def _values(
    context: Mapping[str, object], language: str, tr: gettext.NullTranslations
) -> dict[str, str]:
    shown = formatter_for(language)
    unlimited = tr.gettext("unlimited")
    values = {key: str(value) for key, value in context.items()}
    if "plan" in context:
        values["plan"] = _plan_name(context["plan"], language)
    if isinstance(validity_ends_at := context.get("validity_ends_at"), datetime):
        values["valid_until"] = shown.local_time(validity_ends_at)
    if "data_bytes" in context:
        values["data"] = _quantity(context["data_bytes"], shown.data, unlimited)
    if "voice_seconds" in context:
        values["voice"] = _quantity(context["voice_seconds"], shown.minutes, unlimited)
    if "sms_count" in context:
        values["sms"] = _quantity(context["sms_count"], str, unlimited)
    currency = str(context.get("currency", "KZT"))
    if "amount_minor" in context:
        values["amount"] = shown.money(int(str(context["amount_minor"])), currency)
    if "wallet_minor" in context:
        wallet_currency = str(context.get("wallet_currency", "KZT"))
        values["wallet"] = shown.money(int(str(context["wallet_minor"])), wallet_currency)
    return values


def render(template: str, context: Mapping[str, object], *, language: str) -> str:
    """The text of ``template`` in ``language``. Raises ``KeyError`` for an unknown template
    and ``ValueError`` when the context lacks a required value (a programming error)."""
    definition = TEMPLATES[template]
    missing = [key for key in definition.required if key not in context]
    if missing:
        raise ValueError(f"Template {template!r} needs {', '.join(missing)}")
    tr = translations(LOCALES, language)
    text = tr.gettext(definition.message).format(**_values(context, language, tr))
    if definition.tells_promotion and context.get("promotion"):
        text += " " + _promotion_note(context, language, tr)
    return text
