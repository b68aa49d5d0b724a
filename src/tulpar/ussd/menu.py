"""The ``*100#`` menu, pure: a state, the facts it shows and a language give a screen, and the
screen says what each key leads to — so what is shown and what is accepted cannot differ.
No database and no gateway here: :mod:`tulpar.ussd.service` loads the facts and performs the
actions; the gateway adapters only translate."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from tulpar.kit.format import formatter_for
from tulpar.kit.languages import LANGUAGES
from tulpar.money import Money
from tulpar.ussd import texts
from tulpar.ussd.screens import CONTINUE, END, Line, clip, fits, paginate
from tulpar.ussd.texts import Ending

MORE, BACK = "0", "00"
LANGUAGE_NAMES = {"zh-Hans": "中文", "ru": "Русский", "kk": "Қазақша", "en": "English"}


# --- facts the service loads -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Amounts:
    """Data, voice, SMS; ``None`` is unlimited."""

    data_bytes: int | None = 0
    voice_seconds: int | None = 0
    sms_count: int | None = 0

    @property
    def any(self) -> bool:
        return any(value is None or value > 0 for value in self._values())

    def _values(self) -> tuple[int | None, int | None, int | None]:
        return self.data_bytes, self.voice_seconds, self.sms_count


class Standing(enum.StrEnum):
    active = "active"
    expired = "expired"  # in its grace period: still renewable
    no_plan = "no_plan"


@dataclass(frozen=True, slots=True)
class Balance:
    standing: Standing
    validity_ends_at: datetime | None
    renewable_until: datetime | None
    left: Amounts
    wallet: Money


@dataclass(frozen=True, slots=True)
class PlanOffer:
    code: str
    names: Mapping[str, str]
    price: Money

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or self.code


@dataclass(frozen=True, slots=True)
class Promotion:
    """The promotion the renewal gets (automatic), as the confirmation tells it."""

    names: Mapping[str, str]
    discount: Money
    bonus_data_bytes: int = 0
    bonus_days: int = 0

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or ""


@dataclass(frozen=True, slots=True)
class Offer:
    """One plan's quote for this card, as the confirmation shows it."""

    plan: PlanOffer
    validity_ends_at: datetime
    carried_over: Amounts
    forfeited: Amounts
    wallet: Money
    promotion: Promotion | None = None

    @property
    def price(self) -> Money:
        """What is paid: the plan's price less the promotion's discount."""
        if self.promotion is None:
            return self.plan.price
        return self.plan.price - self.promotion.discount

    @property
    def wallet_covers(self) -> bool:
        return (
            self.wallet.currency == self.price.currency
            and self.wallet.amount_minor >= self.price.amount_minor
        )


@dataclass(frozen=True, slots=True)
class Facts:
    balance: Balance | None = None
    plans: Sequence[PlanOffer] = ()
    offer: Offer | None = None  # None in Confirm: the plan is no longer on sale here


# --- states (where the dialogue stands) and actions (what the service must do) ------------


@dataclass(frozen=True, slots=True)
class Home:
    page: int = 0


@dataclass(frozen=True, slots=True)
class PlanList:
    page: int = 0


@dataclass(frozen=True, slots=True)
class Confirm:
    plan: str
    page: int = 0
    list_page: int = 0  # where "back" returns to


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    pass


@dataclass(frozen=True, slots=True)
class Ended:
    ending: Ending
    order: int | None = None
    minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Pay:
    plan: str


@dataclass(frozen=True, slots=True)
class SendDetails:
    pass


@dataclass(frozen=True, slots=True)
class SetLanguage:
    language: str


State = Home | PlanList | Confirm | LanguageChoice | Ended
Action = Pay | SendDetails | SetLanguage
Target = State | Action


_KINDS: dict[str, type[Target]] = {
    kind.__name__: kind
    for kind in (Home, PlanList, Confirm, LanguageChoice, Ended, Pay, SendDetails, SetLanguage)
}


def encode(target: Target) -> dict[str, Any]:
    """A state or action as JSON, to keep between requests."""
    return {"kind": type(target).__name__, **asdict(target)}


def decode(data: Mapping[str, Any]) -> Target:
    """The state or action :func:`encode` wrote. Raises ``ValueError`` for anything else."""
    values = dict(data)
    kind = _KINDS.get(str(values.pop("kind", "")))
    if kind is None:
        raise ValueError(f"not a USSD menu state: {data!r}")
    if kind is Ended:
        values["ending"] = Ending(values["ending"])
    try:
        return kind(**values)
    except TypeError as error:
        raise ValueError(f"not a USSD menu state: {data!r}") from error


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    ends: bool
    choices: Mapping[str, Target] = field(default_factory=dict)

    @property
    def reply(self) -> str:
        return (END if self.ends else CONTINUE) + self.text


# --- presenting ----------------------------------------------------------------------------


def present(
    state: State,
    facts: Facts,
    language: str,
    *,
    service_code: str,
    notice: str | None = None,
) -> Screen:
    """The screen of ``state`` in ``language``; ``notice`` (e.g. "invalid choice") is put on
    top when it still fits."""
    match state:
        case Home():
            assert facts.balance is not None
            screen = _home(state, facts.balance, language)
        case PlanList():
            screen = _plan_list(state, facts.plans, language)
        case Confirm():
            if facts.offer is None:
                return ended(Ended(Ending.plan_unavailable), language, service_code=service_code)
            screen = _confirm(state, facts.offer, language)
        case LanguageChoice():
            screen = _languages(language)
        case Ended():
            return ended(state, language, service_code=service_code)
    if notice is not None and fits(CONTINUE + notice + "\n" + screen.text):
        return Screen(notice + "\n" + screen.text, ends=False, choices=screen.choices)
    return screen


def ended(state: Ended, language: str, *, service_code: str) -> Screen:
    text = texts.ending(state.ending, language).format(
        order=state.order, minutes=state.minutes, code=service_code
    )
    return Screen(clip(END, text), ends=True)


def invalid_choice(language: str) -> str:
    return texts.t(language, "Invalid choice.")


def _paged(
    pages: Sequence[str], page: int, *, to_page: Any, back: Target | None
) -> tuple[int, str, dict[str, Target]]:
    """The page shown (clamped: facts may have changed) and its paging keys."""
    page = min(max(page, 0), len(pages) - 1)
    keys: dict[str, Target] = {}
    if page < len(pages) - 1:
        keys[MORE] = to_page(page + 1)
    if page > 0:
        keys[BACK] = to_page(page - 1)
    elif back is not None:
        keys[BACK] = back
    return page, pages[page], keys


def _home(state: Home, balance: Balance, language: str) -> Screen:
    t, shown = texts.translator(language), formatter_for(language)
    wallet = t("Wallet {wallet}").format(wallet=shown.money(*_money(balance.wallet), compact=True))
    if balance.standing is Standing.active and balance.validity_ends_at is not None:
        body = [
            t("Valid until {time}").format(time=shown.local_time(balance.validity_ends_at)),
            t("Data {data}, calls {voice}, SMS {sms}").format(**_amounts(balance.left, language)),
            wallet,
        ]
    elif balance.standing is Standing.expired and balance.validity_ends_at is not None:
        body = [t("Plan ended {time}").format(time=shown.local_time(balance.validity_ends_at))]
        if balance.renewable_until is not None:
            body.append(t("Renew by {date}").format(date=shown.local_date(balance.renewable_until)))
        body.append(wallet)
    else:
        body = [t("No active plan"), wallet]
    renew = Line("1", t("Renew"))
    options = [
        renew,
        Line("2", t("Balance by SMS")),
        Line("3", t("Language")),
        Line("0", t("Exit")),
    ]
    pages = paginate(
        body,
        options=options,
        pinned=[renew],
        more=Line(MORE, t("More")),
        back=Line(BACK, t("Back")),
        back_on_first=False,
    )
    page, text, keys = _paged(pages, state.page, to_page=Home, back=None)
    choices: dict[str, Target] = {"1": PlanList(), "2": SendDetails(), "3": LanguageChoice()}
    if page == len(pages) - 1:
        choices["0"] = Ended(Ending.goodbye)
    return Screen(text, ends=False, choices={**choices, **keys})


def _plan_list(state: PlanList, plans: Sequence[PlanOffer], language: str) -> Screen:
    t, shown = texts.translator(language), formatter_for(language)
    back = Line(BACK, t("Back"))
    if not plans:
        return Screen(f"{t('No plans can be bought here now.')}\n{back}", False, {BACK: Home()})
    items = [
        f"{number} {plan.name(language)} {shown.money(*_money(plan.price), compact=True)}"
        for number, plan in enumerate(plans, start=1)
    ]
    pages = paginate(
        items,
        options=[],
        more=Line(MORE, t("More")),
        back=back,
        back_on_first=True,
        heading=t("Choose a plan:"),
    )
    page, text, keys = _paged(pages, state.page, to_page=PlanList, back=Home())
    shown_keys = {line.split(" ", 1)[0] for line in text.splitlines()}
    choices: dict[str, Target] = {
        str(number): Confirm(plan.code, list_page=page)
        for number, plan in enumerate(plans, start=1)
        if str(number) in shown_keys
    }
    return Screen(text, ends=False, choices={**choices, **keys})


def _confirm(state: Confirm, offer: Offer, language: str) -> Screen:
    t, shown = texts.translator(language), formatter_for(language)
    price = shown.money(*_money(offer.price), compact=True)
    wallet = shown.money(*_money(offer.wallet), compact=True)
    body = [
        offer.plan.name(language),
        t("{price}, until {time}").format(
            price=price, time=shown.local_time(offer.validity_ends_at)
        ),
    ]
    if offer.promotion is not None:
        body.append(_promotion(offer.promotion, t))
    if offer.carried_over.any:
        body.append(t("Carried over: {amounts}").format(amounts=_listed(offer.carried_over, t)))
    if offer.forfeited.any:
        body.append(t("Forfeited: {amounts}").format(amounts=_listed(offer.forfeited, t)))
    if offer.wallet_covers:
        body.append(t("Paid from wallet ({wallet})").format(wallet=wallet))
        pay = Line("1", t("Pay"))
    else:
        body.append(t("Wallet {wallet} is too low: payment link by SMS").format(wallet=wallet))
        pay = Line("1", t("Send payment link"))
    pages = paginate(
        body,
        options=[pay],
        more=Line(MORE, t("More")),
        back=Line(BACK, t("Back")),
        back_on_first=True,
    )
    page, text, keys = _paged(
        pages,
        state.page,
        to_page=lambda page: Confirm(state.plan, page=page, list_page=state.list_page),
        back=PlanList(state.list_page),
    )
    choices: dict[str, Target] = {"1": Pay(state.plan)} if page == len(pages) - 1 else {}
    return Screen(text, ends=False, choices={**choices, **keys})


def _languages(language: str) -> Screen:
    t = texts.translator(language)
    lines = [f"{number} {LANGUAGE_NAMES[code]}" for number, code in enumerate(LANGUAGES, start=1)]
    text = "\n".join([*lines, str(Line(BACK, t("Back")))])
    choices: dict[str, Target] = {
        str(number): SetLanguage(code) for number, code in enumerate(LANGUAGES, start=1)
    }
    return Screen(text, ends=False, choices={**choices, BACK: Home()})


def _money(money: Money) -> tuple[int, str]:
    return money.amount_minor, money.currency


def _amounts(amounts: Amounts, language: str) -> dict[str, str]:
    t, shown = texts.translator(language), formatter_for(language)
    unlimited = t("unlimited")
    return {
        "data": unlimited if amounts.data_bytes is None else shown.data(amounts.data_bytes),
        "voice": unlimited
        if amounts.voice_seconds is None
        else shown.minutes(amounts.voice_seconds),
        "sms": unlimited if amounts.sms_count is None else str(amounts.sms_count),
    }


def _promotion(promotion: Promotion, t: texts.Translate) -> str:
    """``Promotion Early bird: -500 KZT, +1 GB, +2 days``."""
    shown = formatter_for(t.language)
    gifts = []
    if promotion.discount.amount_minor:
        gifts.append("-" + shown.money(*_money(promotion.discount), compact=True))
    if promotion.bonus_data_bytes:
        gifts.append("+" + shown.data(promotion.bonus_data_bytes))
    if promotion.bonus_days:
        gifts.append(t("+{days} days").format(days=promotion.bonus_days))
    separator = texts.LIST_SEPARATOR.get(t.language, ", ")
    return t("Promotion {name}: {gifts}").format(
        name=promotion.name(t.language), gifts=separator.join(gifts)
    )


def _listed(amounts: Amounts, t: texts.Translate) -> str:
    """The allowances that are not zero, e.g. ``2 GB, 30 min``."""
    language = t.language
    shown = formatter_for(language)
    unlimited = t("unlimited")
    parts = []
    if amounts.data_bytes != 0:
        data = unlimited if amounts.data_bytes is None else shown.data(amounts.data_bytes)
        parts.append(t("data {data}").format(data=data))
    if amounts.voice_seconds != 0:
        voice = unlimited if amounts.voice_seconds is None else shown.minutes(amounts.voice_seconds)
        parts.append(t("calls {voice}").format(voice=voice))
    if amounts.sms_count != 0:
        count = unlimited if amounts.sms_count is None else str(amounts.sms_count)
        parts.append(t("SMS {sms}").format(sms=count))
    return texts.LIST_SEPARATOR.get(language, ", ").join(parts)
