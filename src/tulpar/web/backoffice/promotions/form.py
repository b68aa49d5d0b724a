"""The promotion form as the admin fills it in (text, local times, tenge, MB) and back: what
the page shows, parsed into a :class:`PromotionDefinition` with a field-named refusal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tulpar import clock
from tulpar.kit.format import MB
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Channel, DiscountKind, PaymentProviderName, Promotion
from tulpar.promotion.admin import PromotionDefinition, PromotionInvalidError

CHANNELS = tuple(channel.value for channel in Channel)
PAYMENT_METHODS = tuple(provider.value for provider in PaymentProviderName)
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


class PromotionForm(BaseModel):
    """Every field as text, so a bad value gets the form back with its message, not a 422
    from the framework."""

    code: str = ""
    automatic: str = ""
    name_zh_hans: str = ""
    name_ru: str = ""
    name_kk: str = ""
    name_en: str = ""
    plan_codes: str = ""
    channels: list[str] = []
    payment_methods: list[str] = []
    early_renewal_days: str = ""
    first_purchase: str = ""
    starts_at: str = ""
    ends_at: str = ""
    effect_kind: str = DiscountKind.none.value
    effect_value: str = ""
    bonus_data_mb: str = ""
    bonus_days: str = ""
    per_card_limit: str = ""
    total_limit: str = ""
    budget_tenge: str = ""

    def names(self) -> dict[str, str]:
        return {language: getattr(self, _name_field(language)) for language in LANGUAGES}

    def definition(self) -> PromotionDefinition:
        try:
            kind = DiscountKind(self.effect_kind)
        except ValueError:
            raise PromotionInvalidError(
                "Choose the kind of discount", field="effect_kind"
            ) from None
        value = _whole(self.effect_value, "effect_value") or 0
        return PromotionDefinition(
            names=self.names(),
            code=self.code.strip() or None,
            automatic=bool(self.automatic),
            plan_codes=[p for p in self.plan_codes.replace(",", " ").split() if p] or None,
            channels=list(self.channels) or None,
            payment_methods=list(self.payment_methods) or None,
            early_renewal_days=_whole(self.early_renewal_days, "early_renewal_days"),
            first_purchase=bool(self.first_purchase),
            starts_at=_local(self.starts_at, "starts_at"),
            ends_at=_local(self.ends_at, "ends_at"),
            effect_kind=kind,
            # A fixed discount is typed in tenge and kept in minor units (tiyn).
            effect_value=value * 100 if kind is DiscountKind.fixed else value,
            bonus_data_bytes=(_whole(self.bonus_data_mb, "bonus_data_bytes") or 0) * MB,
            bonus_days=_whole(self.bonus_days, "bonus_days") or 0,
            per_card_limit=_whole(self.per_card_limit, "per_card_limit"),
            total_limit=_whole(self.total_limit, "total_limit"),
            budget_minor=_tiyn(_whole(self.budget_tenge, "budget_minor")),
        )

    @classmethod
    def of(cls, promotion: Promotion) -> PromotionForm:
        """The form filled in with ``promotion``'s values, for editing."""
        fixed = promotion.effect_kind is DiscountKind.fixed
        values: dict[str, Any] = {
            _name_field(language): promotion.names.get(language, "") for language in LANGUAGES
        }
        return cls(
            **values,
            code=promotion.code or "",
            automatic="on" if promotion.automatic else "",
            plan_codes=" ".join(promotion.plan_codes or []),
            channels=list(promotion.channels or []),
            payment_methods=list(promotion.payment_methods or []),
            early_renewal_days=_text(promotion.early_renewal_days),
            first_purchase="on" if promotion.first_purchase else "",
            starts_at=_local_text(promotion.starts_at),
            ends_at=_local_text(promotion.ends_at),
            effect_kind=promotion.effect_kind.value,
            effect_value=_text(
                promotion.effect_value // 100 if fixed else promotion.effect_value or None
            ),
            bonus_data_mb=_text(promotion.bonus_data_bytes // MB or None),
            bonus_days=_text(promotion.bonus_days or None),
            per_card_limit=_text(promotion.per_card_limit),
            total_limit=_text(promotion.total_limit),
            budget_tenge=_text(
                None if promotion.budget_minor is None else promotion.budget_minor // 100
            ),
        )


def _name_field(language: str) -> str:
    return "name_" + language.lower().replace("-", "_")


def _whole(text: str, field: str) -> int | None:
    text = text.strip().replace(" ", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise PromotionInvalidError("Give a whole number", field=field)
    return int(text)


def _tiyn(tenge: int | None) -> int | None:
    return None if tenge is None else tenge * 100


def _local(text: str, field: str) -> datetime | None:
    """A local (Kazakhstan) time from the page, as the UTC moment it is."""
    if not text.strip():
        return None
    try:
        return datetime.strptime(text.strip()[:16], LOCAL_INPUT).replace(tzinfo=clock.local_zone())
    except ValueError:
        raise PromotionInvalidError("Give a date and time", field=field) from None


def _local_text(moment: datetime | None) -> str:
    return "" if moment is None else clock.to_local(moment).strftime(LOCAL_INPUT)


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
