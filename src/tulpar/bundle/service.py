"""Applying plans to cards (renewal policy, rollover) and moving bundles through time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.barring import service as barring_service
from tulpar.bundle import repository
from tulpar.bundle.allowances import ALLOWANCE_KINDS, AllowanceKind
from tulpar.card import service as card_service
from tulpar.ledger import service as ledger
from tulpar.models import (
    Bundle,
    BundleState,
    Card,
    LedgerAccount,
    LedgerCause,
    Plan,
    RenewalPolicy,
)


def apply_plan(
    session: Session,
    card: Card,
    plan: Plan,
    *,
    cause: LedgerCause,
    order_id: int | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> Bundle:
    """Apply ``plan`` to ``card`` following the plan's renewal policy.

    ``extend``: the new bundle is active at once and ends at
    ``max(now, card's validity end) + plan days``; running bundles are replaced (their unused
    allowance is carried over when the plan has ``rollover``, otherwise forfeited).
    ``queue``: the new bundle starts when the card's current validity ends.
    """
    now = clock.now()
    card = card_service.get_for_update(session, card.id)
    card_service.ensure_renewable(card, now=now)
    current_end = (
        card.validity_ends_at if card.validity_ends_at and card.validity_ends_at > now else now
    )
    validity = timedelta(days=plan.validity_days)
    log = _Ledger(session, card_id=card.id, order_id=order_id, actor=actor, reason=reason)

    if plan.renewal_policy is RenewalPolicy.extend:
        bundle = _new_bundle(card, plan, starts_at=now, expires_at=current_end + validity)
        bundle.order_id = order_id
        repository.add(session, bundle)
        log.grant(bundle, cause=cause)
        for replaced in repository.running_for_update(session, card.id, at=now):
            if replaced.id != bundle.id:
                _replace(log, replaced, by=bundle, carry_over=plan.rollover, now=now)
    else:
        starts_at = current_end
        bundle = _new_bundle(card, plan, starts_at=starts_at, expires_at=starts_at + validity)
        bundle.order_id = order_id
        if starts_at > now:
            bundle.state = BundleState.scheduled
        repository.add(session, bundle)
        log.grant(bundle, cause=cause)

    card_service.mark_active(card, validity_ends_at=max(bundle.expires_at, current_end), now=now)
    # A card barred for running out gets its service back (job runs after commit).
    barring_service.lift_after_renewal(session, card.id)
    session.flush()
    return bundle


def _new_bundle(card: Card, plan: Plan, *, starts_at: datetime, expires_at: datetime) -> Bundle:
    bundle = Bundle(
        card_id=card.id,
        plan_id=plan.id,
        state=BundleState.active,
        starts_at=starts_at,
        expires_at=expires_at,
    )
    for kind in ALLOWANCE_KINDS:
        amount = kind.planned(plan)
        setattr(bundle, f"{kind.unit_column}_granted", amount)
        setattr(bundle, f"{kind.unit_column}_remaining", amount)
    return bundle


class _Ledger:
    """Moves bundle allowances and writes the matching ledger entry, one place for both."""

    def __init__(
        self,
        session: Session,
        *,
        card_id: int,
        order_id: int | None,
        actor: str | None,
        reason: str | None,
    ) -> None:
        self.session = session
        self.card_id = card_id
        self.order_id = order_id
        self.actor = actor
        self.reason = reason

    def grant(self, bundle: Bundle, *, cause: LedgerCause) -> None:
        for kind in ALLOWANCE_KINDS:
            granted = kind.granted(bundle)
            if granted:
                self.entry(bundle, kind.account, delta=granted, before=0, cause=cause)

    def entry(
        self, bundle: Bundle, account: LedgerAccount, *, delta: int, before: int, cause: LedgerCause
    ) -> None:
        ledger.record(
            self.session,
            card_id=self.card_id,
            bundle_id=bundle.id,
            account=account,
            delta=delta,
            balance_before=before,
            cause=cause,
            order_id=self.order_id,
            actor=self.actor,
            reason=self.reason,
        )


def _replace(log: _Ledger, old: Bundle, *, by: Bundle, carry_over: bool, now: datetime) -> None:
    """Close ``old`` now; its unused allowance moves to ``by`` or is forfeited."""
    for kind in ALLOWANCE_KINDS:
        left = kind.remaining(old)
        if not left:
            continue
        target = kind.remaining(by)
        cause = (
            LedgerCause.rollover if carry_over and target is not None else LedgerCause.replacement
        )
        kind.set_remaining(old, 0)
        log.entry(old, kind.account, delta=-left, before=left, cause=cause)
        if cause is LedgerCause.rollover:
            assert target is not None
            kind.set_remaining(by, target + left)
            log.entry(by, kind.account, delta=left, before=target, cause=cause)
    old.state = BundleState.revoked
    old.expires_at = max(now, old.starts_at + timedelta(microseconds=1))


def run_schedule(session: Session, *, now: datetime) -> tuple[int, int]:
    """Start queued bundles whose time has come (carrying rollover) and expire ended ones."""
    # Starting one moves allowance between its card's bundles: their cards are locked first.
    card_service.lock(session, repository.cards_with_bundles_due_to_start(session, now=now))
    started = 0
    for bundle, plan in repository.due_to_start_for_update(session, now=now):
        if plan.rollover:
            log = _Ledger(
                session, card_id=bundle.card_id, order_id=bundle.order_id, actor=None, reason=None
            )
            for previous in repository.ended_at_for_update(
                session, bundle.card_id, ended_at=bundle.starts_at
            ):
                _carry_unused(log, previous, into=bundle)
        bundle.state = BundleState.active
        started += 1
    session.flush()
    expired = repository.expire_ended(session, now=now)
    return started, expired


def _carry_unused(log: _Ledger, previous: Bundle, *, into: Bundle) -> None:
    for kind in ALLOWANCE_KINDS:
        left = kind.remaining(previous)
        target = kind.remaining(into)
        if not left or target is None:
            continue
        kind.set_remaining(previous, 0)
        log.entry(previous, kind.account, delta=-left, before=left, cause=LedgerCause.rollover)
        kind.set_remaining(into, target + left)
        log.entry(into, kind.account, delta=left, before=target, cause=LedgerCause.rollover)


def bundles_of(session: Session, card: Card) -> list[Bundle]:
    return repository.for_card(session, card.id)


def valid_bundles(session: Session, card: Card, *, at: datetime | None = None) -> list[Bundle]:
    return repository.valid_at(session, card.id, at=at or clock.now())


def adjust(
    session: Session,
    bundle: Bundle,
    kind: AllowanceKind,
    *,
    delta: int,
    cause: LedgerCause,
    actor: str,
    reason: str,
) -> None:
    """Move one allowance of one bundle by ``delta`` (a support correction), never below zero.
    A bundle with nothing left of any finite allowance becomes ``exhausted``."""
    before = kind.remaining(bundle)
    if before is None:
        return  # unlimited: nothing to count
    delta = max(delta, -before)
    kind.set_remaining(bundle, before + delta)
    _Ledger(session, card_id=bundle.card_id, order_id=None, actor=actor, reason=reason).entry(
        bundle, kind.account, delta=delta, before=before, cause=cause
    )
    if (
        kind.account is LedgerAccount.data
        and before + delta == 0
        and bundle.state is BundleState.active
    ):
        bundle.state = BundleState.exhausted
    session.flush()
