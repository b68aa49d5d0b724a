"""The operator's catalog changes: create, edit (prices apart: ``catalog.change_price``),
retire and delete plans. Decided on the caller (:mod:`tulpar.auth.roles`), checked by
:mod:`tulpar.catalog.rules`, and each change leaves an audit row with the values before and
after. Orders freeze their amount and currency when placed, so no change here reaches one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.audit import service as audit_service
from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.catalog import repository, rules
from tulpar.catalog.definition import PlanDefinition, PlanStatus
from tulpar.catalog.rules import FieldProblem, PlanRefusedError
from tulpar.catalog.service import apply_definition, insert_plan, status_of
from tulpar.errors import PlanNotFoundError, TulparError
from tulpar.models import AuditEntry, Channel, Plan


class PlanSoldError(TulparError):
    status = 409
    code = "plan_sold"
    title = "This plan has been sold: it can be retired, never deleted"


class PlanRetiredError(TulparError):
    status = 409
    code = "plan_retired"
    title = "This plan is retired: it stays as it was sold"


@dataclass(frozen=True, slots=True)
class ListedPlan:
    plan: Plan
    status: PlanStatus
    sold: bool  # an order or a bundle names it: it may be retired, not deleted


def listing(session: Session, caller: Caller) -> list[ListedPlan]:
    """Every plan with where it stands (active, scheduled, ended, retired) and whether it
    has been sold, for the back office."""
    roles.require(caller, "catalog.view")
    sold = repository.sold_plan_ids(session)
    now = clock.now()
    return [
        ListedPlan(plan=plan, status=status_of(plan, at=now), sold=plan.id in sold)
        for plan in repository.all_plans(session)
    ]


def plan_for(session: Session, caller: Caller, code: str) -> ListedPlan:
    roles.require(caller, "catalog.view")
    plan = _find(session, code)
    return ListedPlan(plan=plan, status=status_of(plan), sold=repository.is_sold(session, plan.id))


def history(session: Session, caller: Caller, plan: Plan) -> list[AuditEntry]:
    """The plan's audit rows, newest first (created, edited, repriced, retired)."""
    roles.require(caller, "catalog.view")
    return audit_service.entries(session, audit_service.AuditFilter(subject=_subject(plan)))


def create_plan(session: Session, caller: Caller, definition: PlanDefinition) -> Plan:
    """A new plan with its first prices (pricing is ``catalog.change_price``'s too)."""
    roles.require(caller, "catalog.edit")
    roles.require(caller, "catalog.change_price")
    definition = replace(definition, code=rules.normal_code(definition.code))
    rules.check(definition)
    if repository.by_code(session, definition.code) is not None:
        raise _code_taken()
    try:
        with session.begin_nested():  # a concurrent create of the same code loses here
            plan = insert_plan(session, definition)
    except IntegrityError as error:
        if "uq_plans_code" not in str(error.orig):
            raise
        raise _code_taken() from None
    audit_service.record(
        session, caller, "catalog.plan_create", subject=_subject(plan), after=snapshot(plan)
    )
    return plan


def update_plan(session: Session, caller: Caller, code: str, definition: PlanDefinition) -> Plan:
    """The plan becomes ``definition`` (its code never changes). Unchanged fields leave no
    trace; changed ones are audited as ``catalog.plan_edit`` and, for prices,
    ``catalog.plan_price_change``, each with only what changed, before and after."""
    roles.require(caller, "catalog.edit")
    plan = _find(session, code, for_update=True)
    if plan.retired_at is not None:
        raise PlanRetiredError()
    if rules.normal_code(definition.code) != plan.code:
        raise PlanRefusedError([FieldProblem("code", "A plan's code never changes")])
    definition = replace(definition, code=plan.code)
    rules.check(definition)
    before = snapshot(plan)
    after = _snapshot_of(definition, retired_at=None)
    price_change = before["prices"] != after["prices"]
    if price_change:
        roles.require(caller, "catalog.change_price")
    edited = [key for key in after if key != "prices" and before[key] != after[key]]
    if not edited and not price_change:
        return plan
    apply_definition(plan, definition)
    if price_change:
        repository.replace_prices(session, plan.id, definition.prices_minor)
    session.flush()
    subject = _subject(plan)
    if edited:
        audit_service.record(
            session,
            caller,
            "catalog.plan_edit",
            subject=subject,
            before={"code": plan.code, **{key: before[key] for key in edited}},
            after={"code": plan.code, **{key: after[key] for key in edited}},
        )
    if price_change:
        audit_service.record(
            session,
            caller,
            "catalog.plan_price_change",
            subject=subject,
            before={"code": plan.code, "prices": before["prices"]},
            after={"code": plan.code, "prices": after["prices"]},
        )
    return _find(session, plan.code, for_update=True)


def retire_plan(session: Session, caller: Caller, code: str, *, reason: str | None = None) -> Plan:
    """Withdraw the plan for good: no channel sells it again (its sale window closes now),
    while the bundles and orders that have it go on as they were."""
    roles.require(caller, "catalog.edit")
    plan = _find(session, code, for_update=True)
    if plan.retired_at is not None:
        raise PlanRetiredError()
    before = snapshot(plan)
    now = clock.now()
    plan.retired_at = now
    if plan.sellable_until is None or plan.sellable_until > now:
        plan.sellable_until = now
    if plan.sellable_from is not None and plan.sellable_from > plan.sellable_until:
        plan.sellable_from = plan.sellable_until  # a plan retired before its sale began
    session.flush()
    after = snapshot(plan)
    changed = [key for key in after if before[key] != after[key]]
    audit_service.record(
        session,
        caller,
        "catalog.plan_retire",
        subject=_subject(plan),
        reason=reason or None,
        before={"code": plan.code, **{key: before[key] for key in changed}},
        after={"code": plan.code, **{key: after[key] for key in changed}},
    )
    return plan


def delete_plan(session: Session, caller: Caller, code: str) -> None:
    """Delete a plan that was never sold (a draft, a mistake). A sold plan is refused
    (:class:`PlanSoldError`): retire it instead. The database's foreign keys refuse it too,
    so an order placed meanwhile cannot be orphaned."""
    roles.require(caller, "catalog.edit")
    plan = _find(session, code, for_update=True)
    if repository.is_sold(session, plan.id):
        raise PlanSoldError()
    before = snapshot(plan)
    try:
        with session.begin_nested():
            repository.delete_plan(session, plan.id)
    except IntegrityError as error:
        if "fk_" not in str(error.orig):
            raise
        raise PlanSoldError() from None
    session.expunge(plan)
    audit_service.record(
        session, caller, "catalog.plan_delete", subject=f"plan:{plan.id}", before=before
    )


def snapshot(plan: Plan) -> dict[str, Any]:
    """The plan as the audit log keeps it (JSON values)."""
    return {
        "code": plan.code,
        "names": dict(plan.names),
        "validity_days": plan.validity_days,
        "data_bytes": plan.data_bytes,
        "voice_seconds": plan.voice_seconds,
        "sms_count": plan.sms_count,
        "prices": {price.currency: price.amount_minor for price in plan.prices},
        "channels": list(plan.channels),
        "renewal_policy": plan.renewal_policy.value,
        "rollover": plan.rollover,
        "sellable_from": _moment(plan.sellable_from),
        "sellable_until": _moment(plan.sellable_until),
        "retired_at": _moment(plan.retired_at),
    }


def _snapshot_of(definition: PlanDefinition, *, retired_at: datetime | None) -> dict[str, Any]:
    return {
        "code": definition.code,
        "names": {language: name.strip() for language, name in definition.names.items()},
        "validity_days": definition.validity_days,
        "data_bytes": definition.data_bytes,
        "voice_seconds": definition.voice_seconds,
        "sms_count": definition.sms_count,
        "prices": dict(sorted(definition.prices_minor.items())),
        "channels": [channel.value for channel in definition.channels],
        "renewal_policy": definition.renewal_policy.value,
        "rollover": definition.rollover,
        "sellable_from": _moment(definition.sellable_from),
        "sellable_until": _moment(definition.sellable_until),
        "retired_at": _moment(retired_at),
    }


def definition_of(plan: Plan) -> PlanDefinition:
    """The plan as a definition, to change a few fields of (``dataclasses.replace``)."""
    return PlanDefinition(
        code=plan.code,
        names=dict(plan.names),
        validity_days=plan.validity_days,
        data_bytes=plan.data_bytes,
        voice_seconds=plan.voice_seconds,
        sms_count=plan.sms_count,
        prices_minor={price.currency: price.amount_minor for price in plan.prices},
        channels=tuple(Channel(channel) for channel in plan.channels),
        renewal_policy=plan.renewal_policy,
        rollover=plan.rollover,
        sellable_from=plan.sellable_from,
        sellable_until=plan.sellable_until,
    )


def _moment(value: datetime | None) -> str | None:
    # In UTC, so a moment typed in local time compares equal to the one stored.
    return None if value is None or value.tzinfo is None else value.astimezone(UTC).isoformat()


def _subject(plan: Plan) -> str:
    return f"plan:{plan.id}"


def _find(session: Session, code: str, *, for_update: bool = False) -> Plan:
    plan = repository.by_code(session, rules.normal_code(code), for_update=for_update)
    if plan is None:
        raise PlanNotFoundError(f"There is no plan {code!r}")
    return plan


def _code_taken() -> PlanRefusedError:
    return PlanRefusedError([FieldProblem("code", "A plan with this code exists")])
