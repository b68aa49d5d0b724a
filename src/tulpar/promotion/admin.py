"""Promotions as the back office manages them: create, edit and deactivate (never delete:
orders and receipts point at them), each change audited with the values before and after.
An admin's (``promotions.view`` / ``promotions.edit``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from tulpar.audit import service as audit
from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.errors import TulparError
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Channel, DiscountKind, PaymentProviderName, Promotion
from tulpar.promotion import repository
from tulpar.promotion.service import normal_code

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
MAX_NAME = 80


class PromotionInvalidError(TulparError):
    status = 422
    code = "promotion_invalid"
    title = "This promotion is not valid"


class PromotionNotFoundError(TulparError):
    status = 404
    code = "promotion_not_found"
    title = "Promotion not found"


class PromotionCodeTakenError(TulparError):
    status = 409
    code = "promotion_code_taken"
    title = "Another promotion has this code"


@dataclass(frozen=True, slots=True)
class PromotionDefinition:
    """Everything an admin sets on a promotion. ``None`` conditions mean "any"."""

    names: dict[str, str]
    code: str | None = None
    automatic: bool = False
    plan_codes: list[str] | None = None
    channels: list[str] | None = None
    payment_methods: list[str] | None = None
    early_renewal_days: int | None = None
    first_purchase: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    effect_kind: DiscountKind = DiscountKind.none
    effect_value: int = 0
    bonus_data_bytes: int = 0
    bonus_days: int = 0
    per_card_limit: int | None = None
    total_limit: int | None = None
    budget_minor: int | None = None

    def checked(self) -> PromotionDefinition:
        """The definition normalised (upper-case code, trimmed names), or
        ``PromotionInvalidError`` naming the field that is wrong."""
        names = {language: (self.names.get(language) or "").strip() for language in LANGUAGES}
        for name in names.values():
            if not name or len(name) > MAX_NAME:
                _invalid("names", "Every language needs a name of 1 to 80 characters")
        code = normal_code(self.code) if self.code and self.code.strip() else None
        if code is not None and not CODE_PATTERN.match(code):
            _invalid("code", "A code has 3 to 32 letters, digits, - or _")
        if code is None and not self.automatic:
            _invalid("code", "A promotion has a code, or is automatic")
        if self.channels is not None and not set(self.channels) <= {c.value for c in Channel}:
            _invalid("channels", "Unknown channel")
        methods = {p.value for p in PaymentProviderName}
        if self.payment_methods is not None and not set(self.payment_methods) <= methods:
            _invalid("payment_methods", "Unknown payment method")
        for name in ("plan_codes", "channels", "payment_methods"):
            if getattr(self, name) == []:
                _invalid(name, "Leave it empty for any, or name at least one")
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            _invalid("ends_at", "The end comes after the start")
        if self.effect_kind is DiscountKind.percent and not 1 <= self.effect_value <= 100:
            _invalid("effect_value", "A percentage is 1 to 100")
        if self.effect_kind is DiscountKind.fixed and self.effect_value <= 0:
            _invalid("effect_value", "A fixed discount is more than 0")
        effect_value = 0 if self.effect_kind is DiscountKind.none else self.effect_value
        if self.bonus_data_bytes < 0 or self.bonus_days < 0:
            _invalid("bonus_data_bytes", "A bonus is not negative")
        if self.effect_kind is DiscountKind.none and not (self.bonus_data_bytes or self.bonus_days):
            _invalid("effect_kind", "A promotion gives a discount, bonus data or bonus days")
        for name in ("early_renewal_days", "per_card_limit", "total_limit", "budget_minor"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                _invalid(name, "Leave it empty for none, or give a number above 0")
        return PromotionDefinition(
            **{
                **{f.name: getattr(self, f.name) for f in fields(self)},
                "names": names,
                "code": code,
                "effect_value": effect_value,
                "starts_at": _utc(self.starts_at),
                "ends_at": _utc(self.ends_at),
                "plan_codes": None
                if self.plan_codes is None
                else sorted({p.strip().upper() for p in self.plan_codes}),
            }
        )


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _invalid(field: str, detail: str) -> None:
    raise PromotionInvalidError(detail, field=field)


def listing(session: Session, caller: Caller) -> list[Promotion]:
    roles.require(caller, "promotions.view")
    return repository.all_promotions(session)


def get(session: Session, caller: Caller, promotion_id: int) -> Promotion:
    roles.require(caller, "promotions.view")
    promotion = repository.get(session, promotion_id)
    if promotion is None:
        raise PromotionNotFoundError()
    return promotion


def create(session: Session, caller: Caller, definition: PromotionDefinition) -> Promotion:
    roles.require(caller, "promotions.edit")
    checked = definition.checked()
    _ensure_code_free(session, checked.code, promotion_id=None)
    promotion = repository.add(session, Promotion(**_columns(checked), active=True))
    audit.record(
        session,
        caller,
        "promotion.create",
        subject=f"promotion:{promotion.id}",
        after=snapshot(promotion),
    )
    return promotion


def update(
    session: Session, caller: Caller, promotion_id: int, definition: PromotionDefinition
) -> Promotion:
    """Change a promotion. Orders already placed keep the promotion frozen on them."""
    roles.require(caller, "promotions.edit")
    checked = definition.checked()
    promotion = _locked(session, promotion_id)
    _ensure_code_free(session, checked.code, promotion_id=promotion.id)
    before = snapshot(promotion)
    for name, value in _columns(checked).items():
        setattr(promotion, name, value)
    session.flush()
    audit.record(
        session,
        caller,
        "promotion.update",
        subject=f"promotion:{promotion.id}",
        before=before,
        after=snapshot(promotion),
    )
    return promotion


def set_active(session: Session, caller: Caller, promotion_id: int, *, active: bool) -> Promotion:
    """Deactivate (or reactivate) a promotion: a deactivated code answers
    ``promo_code_expired``; orders already placed keep it."""
    roles.require(caller, "promotions.edit")
    promotion = _locked(session, promotion_id)
    before = snapshot(promotion)
    promotion.active = active
    session.flush()
    audit.record(
        session,
        caller,
        "promotion.activate" if active else "promotion.deactivate",
        subject=f"promotion:{promotion.id}",
        before=before,
        after=snapshot(promotion),
    )
    return promotion


def snapshot(promotion: Promotion) -> dict[str, Any]:
    """The promotion's values as the audit log records them."""
    values: dict[str, Any] = {}
    for name in [*(f.name for f in fields(PromotionDefinition)), "active"]:
        value = getattr(promotion, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        elif isinstance(value, DiscountKind):
            value = value.value
        values[name] = value
    values["redeemed_count"] = promotion.redeemed_count
    values["spent_minor"] = promotion.spent_minor
    return values


def _columns(definition: PromotionDefinition) -> dict[str, Any]:
    return {f.name: getattr(definition, f.name) for f in fields(definition)}


def _locked(session: Session, promotion_id: int) -> Promotion:
    promotion = repository.get(session, promotion_id, for_update=True)
    if promotion is None:
        raise PromotionNotFoundError()
    return promotion


def _ensure_code_free(session: Session, code: str | None, *, promotion_id: int | None) -> None:
    if code is None:
        return
    holder = repository.by_code(session, code)
    if holder is not None and holder.id != promotion_id:
        raise PromotionCodeTakenError(field="code")
