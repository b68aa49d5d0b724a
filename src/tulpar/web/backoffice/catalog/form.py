"""The plan form as the admin fills it in (text, local times, MB, minutes, prices in major
units) and back: what the page shows, parsed into a :class:`PlanDefinition`. Every value
that cannot be read is reported at once, tied to the field it is about, in the same
:class:`FieldProblem` words the catalog's own checks use."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from pydantic import BaseModel

from tulpar import clock
from tulpar.catalog import rules
from tulpar.catalog.definition import PlanDefinition
from tulpar.catalog.rules import FieldProblem, PlanRefusedError
from tulpar.kit.format import MB
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Channel, Plan, RenewalPolicy
from tulpar.money import SUPPORTED_CURRENCIES, Money

CHANNELS = tuple(channel.value for channel in Channel)
RENEWAL_POLICIES = tuple(policy.value for policy in RenewalPolicy)
CURRENCIES = SUPPORTED_CURRENCIES
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
_LONGEST_NUMBER = 15
_LONGEST_MEGABYTES = 40  # 1 byte is 0.00000095367431640625 MB


class PlanForm(BaseModel):
    """Every field as text, so a bad value gets the form back with its message, not a 422
    from the framework. An empty price leaves that currency unoffered; an allowance is
    unlimited only when its box is ticked."""

    code: str = ""
    name_zh_hans: str = ""
    name_ru: str = ""
    name_kk: str = ""
    name_en: str = ""
    validity_days: str = ""
    data_mb: str = ""
    data_unlimited: str = ""
    voice_minutes: str = ""
    voice_unlimited: str = ""
    sms_count: str = ""
    sms_unlimited: str = ""
    price_kzt: str = ""
    price_cny: str = ""
    price_usd: str = ""
    channels: list[str] = []
    renewal_policy: str = RenewalPolicy.extend.value
    rollover: str = ""
    sellable_from: str = ""
    sellable_until: str = ""

    def names(self) -> dict[str, str]:
        return {language: getattr(self, name_field(language)) for language in LANGUAGES}

    def price_texts(self) -> dict[str, str]:
        return {currency: getattr(self, price_field(currency)) for currency in CURRENCIES}

    def definition(self, *, prices_minor: dict[str, int] | None = None) -> PlanDefinition:
        """The plan this form describes; ``prices_minor``: the prices to keep instead of the
        form's (a caller who may not change prices submits none). Raises
        :class:`PlanRefusedError` naming every field that cannot be read."""
        reading = _Reading()
        validity = reading.whole(self.validity_days, "validity_days")
        # Bounds in the form's own units, so the message names a number the admin typed.
        data_bytes = reading.data_bytes(self.data_mb, self.data_unlimited)
        voice_minutes = reading.allowance(
            self.voice_minutes, self.voice_unlimited, "voice", most=rules.MAX_VOICE_SECONDS // 60
        )
        sms = reading.allowance(self.sms_count, self.sms_unlimited, "sms", most=rules.MAX_SMS_COUNT)
        if prices_minor is None:
            prices_minor = reading.prices(self.price_texts())
        channels = reading.channels(self.channels)
        policy = reading.renewal_policy(self.renewal_policy)
        starts = reading.local(self.sellable_from, "sellable_from")
        ends = reading.local(self.sellable_until, "sellable_until")
        if reading.problems:
            raise PlanRefusedError(reading.problems)
        return PlanDefinition(
            code=self.code,
            names=self.names(),
            validity_days=validity or 0,
            data_bytes=data_bytes,
            voice_seconds=None if voice_minutes is None else voice_minutes * 60,
            sms_count=sms,
            prices_minor=prices_minor,
            channels=channels,
            renewal_policy=policy,
            rollover=bool(self.rollover),
            sellable_from=starts,
            sellable_until=ends,
        )

    def with_prices_of(self, plan: Plan) -> PlanForm:
        """This form showing ``plan``'s prices (for a caller who sees them read-only)."""
        return self.model_copy(update=_price_texts(plan))

    @classmethod
    def of(cls, plan: Plan) -> PlanForm:
        """The form filled in with ``plan``'s values, for editing."""
        values: dict[str, Any] = {
            name_field(language): plan.names.get(language, "") for language in LANGUAGES
        }
        values.update(_price_texts(plan))
        return cls(
            **values,
            code=plan.code,
            validity_days=str(plan.validity_days),
            data_mb="" if plan.data_bytes is None else _megabytes_text(plan.data_bytes),
            data_unlimited="on" if plan.data_bytes is None else "",
            voice_minutes=_text(None if plan.voice_seconds is None else plan.voice_seconds // 60),
            voice_unlimited="on" if plan.voice_seconds is None else "",
            sms_count=_text(plan.sms_count),
            sms_unlimited="on" if plan.sms_count is None else "",
            channels=list(plan.channels),
            renewal_policy=plan.renewal_policy.value,
            rollover="on" if plan.rollover else "",
            sellable_from=_local_text(plan.sellable_from),
            sellable_until=_local_text(plan.sellable_until),
        )


def name_field(language: str) -> str:
    return "name_" + language.lower().replace("-", "_")


def price_field(currency: str) -> str:
    return "price_" + currency.lower()


def _price_texts(plan: Plan) -> dict[str, str]:
    prices = {price.currency: price.amount_minor for price in plan.prices}
    return {
        price_field(currency): major_text(prices[currency], currency) if currency in prices else ""
        for currency in CURRENCIES
    }


def major_text(amount_minor: int, currency: str) -> str:
    """``350000`` tiyn as ``3500`` (``3500.50`` when there are minor units)."""
    exponent = Money(amount_minor, currency).exponent
    whole, minor = divmod(amount_minor, 10**exponent)
    return str(whole) if minor == 0 else f"{whole}.{minor:0{exponent}d}"


class _Reading:
    """The form's values read one by one, the problems collected rather than raised."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def refuse(self, field: str, message: str, **values: Any) -> None:
        self.problems.append(FieldProblem(field, message, values))

    def whole(self, text: str, field: str) -> int | None:
        text = text.strip().replace(" ", "")
        if not text:
            self.refuse(field, "Give a whole number")
            return None
        if not text.isdigit() or len(text) > _LONGEST_NUMBER:
            self.refuse(field, "Give a whole number")
            return None
        return int(text)

    def data_bytes(self, text: str, unlimited: str) -> int | None:
        """Megabytes as typed (``10240``, ``0.5``), in bytes; every byte count reads back
        exactly, so an edit elsewhere never rounds a plan's data."""
        if unlimited:
            return None
        most = rules.MAX_DATA_BYTES // MB
        amount = _decimal(text.strip().replace(" ", ""), longest=_LONGEST_MEGABYTES)
        with localcontext(prec=60):  # every digit of a byte count written in MB
            in_bytes = None if amount is None else amount * MB
        if in_bytes is None or in_bytes < 0 or in_bytes != in_bytes.to_integral_value():
            self.refuse("data", "Give a number of megabytes")
            return 0
        if in_bytes > rules.MAX_DATA_BYTES:
            self.refuse("data", "Out of range: at most %(max)s", max=most)
        return int(in_bytes)

    def allowance(self, text: str, unlimited: str, field: str, *, most: int) -> int | None:
        if unlimited:
            return None
        value = self.whole(text, field)
        if value is not None and value > most:
            self.refuse(field, "Out of range: at most %(max)s", max=most)
        return value or 0

    def prices(self, texts: dict[str, str]) -> dict[str, int]:
        prices: dict[str, int] = {}
        for currency, text in texts.items():
            text = text.strip().replace(" ", "").replace(",", "")
            if not text:
                continue
            amount_minor = _minor_units(text, currency)
            if amount_minor is None:
                self.refuse(f"prices.{currency}", "Give an amount like 3500 or 52.50")
            else:
                prices[currency] = amount_minor
        return prices

    def channels(self, values: list[str]) -> tuple[Channel, ...]:
        try:
            return tuple(Channel(value) for value in values)
        except ValueError:
            self.refuse("channels", "Unknown or repeated channel")
            return ()

    def renewal_policy(self, value: str) -> RenewalPolicy:
        try:
            return RenewalPolicy(value)
        except ValueError:
            self.refuse("renewal_policy", "Choose how a renewal is added")
            return RenewalPolicy.extend

    def local(self, text: str, field: str) -> datetime | None:
        """A local (Kazakhstan) time from the page, as the moment it is."""
        if not text.strip():
            return None
        try:
            return datetime.strptime(text.strip()[:16], LOCAL_INPUT).replace(
                tzinfo=clock.local_zone()
            )
        except ValueError:
            self.refuse(field, "Give a date and time")
            return None


def _decimal(text: str, *, longest: int = _LONGEST_NUMBER) -> Decimal | None:
    if not text or len(text) > longest:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _megabytes_text(data_bytes: int) -> str:
    # A power of two divides a power of ten, so the quotient is an exact decimal.
    with localcontext(prec=60):
        megabytes = (Decimal(data_bytes) / MB).normalize()
    return f"{megabytes:f}"


def _minor_units(text: str, currency: str) -> int | None:
    amount = _decimal(text)
    if amount is None:
        return None
    minor = amount.scaleb(Money(0, currency).exponent)
    if minor != minor.to_integral_value():
        return None
    return int(minor)


def _local_text(moment: datetime | None) -> str:
    return "" if moment is None else clock.to_local(moment).strftime(LOCAL_INPUT)


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
