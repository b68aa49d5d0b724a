"""What makes a plan sellable as defined: the checks every way of writing a plan goes through
(the back office form, ``tulpar plans``, the demo seed), each failure tied to the field it is
about, in words a page translates (English message ids with ``%(name)s`` values)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tulpar.catalog.definition import PlanDefinition
from tulpar.errors import InvalidInputError
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Channel
from tulpar.money import SUPPORTED_CURRENCIES

CODE_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,30}[A-Z0-9])?$")
NAME_MAX_LENGTH = 120
MAX_VALIDITY_DAYS = 365
# Bounds that catch a slip of the keyboard (an extra few zeros), far above any real plan.
MAX_DATA_BYTES = 10 * 1024**4  # 10 TB
MAX_VOICE_SECONDS = 100_000 * 60
MAX_SMS_COUNT = 100_000
MAX_PRICE_MINOR = 10**11
# Stores and the wallet (USSD) sell in tenge: every plan has a KZT price.
REQUIRED_CURRENCY = "KZT"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One reason a plan was refused: the form field (``names.ru``, ``prices.KZT``,
    ``validity_days`` …), an English message id and its values."""

    field: str
    message: str
    values: dict[str, Any] = dataclasses.field(default_factory=dict)

    def text(self) -> str:
        return self.message % self.values if self.values else self.message


class PlanRefusedError(InvalidInputError):
    """The plan was not saved (nothing was written); ``problems`` says why, field by field."""

    code = "plan_invalid"
    title = "The plan was not saved"

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.text()}" for p in self.problems))


def normal_code(code: str) -> str:
    return code.strip().upper()


def problems_of(definition: PlanDefinition) -> list[FieldProblem]:
    """Every problem of ``definition``, in the form's order; empty when it may be saved."""
    found: list[FieldProblem] = []
    if not CODE_PATTERN.match(definition.code):
        found.append(
            FieldProblem(
                "code",
                "A code is 1 to 32 capital letters, digits and hyphens, like KZ-15D-10GB",
            )
        )
    found.extend(_name_problems(definition.names))
    if not 1 <= definition.validity_days <= MAX_VALIDITY_DAYS:
        found.append(
            FieldProblem(
                "validity_days",
                "Validity is between 1 and %(max)s days",
                {"max": MAX_VALIDITY_DAYS},
            )
        )
    found.extend(_allowance_problems(definition))
    found.extend(_price_problems(definition.prices_minor))
    if not definition.channels:
        found.append(FieldProblem("channels", "Choose at least one channel"))
    elif len(set(definition.channels)) != len(definition.channels) or not all(
        isinstance(channel, Channel) for channel in definition.channels
    ):
        found.append(FieldProblem("channels", "Unknown or repeated channel"))
    starts, ends = definition.sellable_from, definition.sellable_until
    for name, moment in (("sellable_from", starts), ("sellable_until", ends)):
        if moment is not None and moment.tzinfo is None:
            found.append(FieldProblem(name, "A moment needs its time zone"))
    if starts and ends and starts.tzinfo and ends.tzinfo and ends <= starts:
        found.append(FieldProblem("sellable_until", "The sale must end after it starts"))
    return found


def check(definition: PlanDefinition) -> None:
    """Raise :class:`PlanRefusedError` unless ``definition`` may be saved."""
    found = problems_of(definition)
    if found:
        raise PlanRefusedError(found)


def _name_problems(names: dict[str, str]) -> list[FieldProblem]:
    found = []
    for language in LANGUAGES:
        name = names.get(language, "").strip()
        if not name:
            found.append(FieldProblem(f"names.{language}", "A name is needed in every language"))
        elif len(name) > NAME_MAX_LENGTH:
            found.append(
                FieldProblem(
                    f"names.{language}",
                    "A name is at most %(max)s characters",
                    {"max": NAME_MAX_LENGTH},
                )
            )
    for language in sorted(set(names) - set(LANGUAGES)):
        found.append(FieldProblem(f"names.{language}", "Not one of our languages"))
    return found


def _allowance_problems(definition: PlanDefinition) -> list[FieldProblem]:
    found = []
    allowances = (
        ("data", definition.data_bytes, MAX_DATA_BYTES),
        ("voice", definition.voice_seconds, MAX_VOICE_SECONDS),
        ("sms", definition.sms_count, MAX_SMS_COUNT),
    )
    for name, value, most in allowances:
        if value is not None and not 0 <= value <= most:
            found.append(FieldProblem(name, "Out of range: at most %(max)s", {"max": most}))
    if all(value == 0 for _, value, _ in allowances):
        found.append(FieldProblem("data", "A plan grants some data, minutes or SMS"))
    return found


def _price_problems(prices: dict[str, int]) -> list[FieldProblem]:
    found = []
    for currency, amount_minor in sorted(prices.items()):
        if currency not in SUPPORTED_CURRENCIES:
            found.append(
                FieldProblem(
                    f"prices.{currency}",
                    "Prices are in %(currencies)s",
                    {"currencies": ", ".join(SUPPORTED_CURRENCIES)},
                )
            )
        elif not 0 < amount_minor <= MAX_PRICE_MINOR:
            found.append(FieldProblem(f"prices.{currency}", "A price is more than zero"))
    if REQUIRED_CURRENCY not in prices:
        found.append(
            FieldProblem(
                f"prices.{REQUIRED_CURRENCY}",
                "Every plan has a price in %(currency)s",
                {"currency": REQUIRED_CURRENCY},
            )
        )
    return found
