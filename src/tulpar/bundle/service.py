"""Applying plans to cards (renewal policy, rollover) and moving bundles through time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.barring import service as barring_service
from tulpar.bundle import repository
from tulpar.bundle.allowances import ALLOWANCE_KINDS, AllowanceKind
from tulpar.bundle.policy import Outcome, Release, RenewalQuote, carry_at_start, plan_renewal
from tulpar.card import service as card_service
from tulpar.kit import sweep
from tulpar.ledger import service as ledger
from tulpar.models import (
    Bundle,
    BundleState,
    Card,
    LedgerAccount,
    LedgerCause,
    Plan,
)


def quote(
    session: Session,
    card: Card,
    plan: Plan,
    *,
    now: datetime | None = None,
    bonus_days: int = 0,
) -> RenewalQuote:
    """What applying ``plan`` to ``card`` would do at ``now``: the bundle's window, the new
    validity end, what carries over and what is forfeited. Reads without locking, so a
    concurrent renewal may change it; ``apply_plan`` decides again under the card's lock.
    Whether the card may be renewed at all is ``card_service.ensure_renewable``'s answer.
    ``bonus_days``: a promotion's extra days on the new bundle."""
    now = now or clock.now()
    bundles = repository.not_ended(session, card.id, at=now)
    return plan_renewal(card.validity_ends_at, bundles, plan, now=now, bonus_days=bonus_days)


def apply_plan(
    session: Session,
    card: Card,
    plan: Plan,
    *,
    cause: LedgerCause,
    order_id: int | None = None,
    actor: str | None = None,
    reason: str | None = None,
    bonus_data_bytes: int = 0,
    bonus_days: int = 0,
) -> Bundle:
    """Apply ``plan`` to ``card`` exactly as ``quote`` describes (see ``policy.plan_renewal``).

    ``extend`` merges: the bundles valid now are revoked and, with ``rollover``, their unused
    allowance moves into the new bundle, so the card never holds two overlapping bundles.
    ``queue``: the new bundle is scheduled for when the card's current validity ends.
    A promotion's ``bonus_data_bytes`` join this same bundle's data (its own ledger entry,
    cause ``promotion``; nothing for an unlimited plan) and its ``bonus_days`` lengthen it:
    no second bundle, so rating keeps one bundle per card to draw from.
    """
    now = clock.now()
    card = card_service.get_for_update(session, card.id)
    card_service.ensure_renewable(card, now=now)
    bundles = {
        bundle.id: bundle for bundle in repository.not_ended_for_update(session, card.id, at=now)
    }
    decided = plan_renewal(
        card.validity_ends_at, list(bundles.values()), plan, now=now, bonus_days=bonus_days
    )
    log = _Ledger(session, card_id=card.id, order_id=order_id, actor=actor, reason=reason)

    bundle = _new_bundle(card, plan, starts_at=decided.starts_at, expires_at=decided.expires_at)
    bundle.order_id = order_id
    bundle.replaced_validity_ends_at = card.validity_ends_at
    if decided.starts_at > now:
        bundle.state = BundleState.scheduled
    repository.add(session, bundle)
    log.grant(bundle, cause=cause)
    if bonus_data_bytes > 0 and bundle.data_bytes_remaining is not None:
        before = bundle.data_bytes_remaining
        bundle.data_bytes_granted = (bundle.data_bytes_granted or 0) + bonus_data_bytes
        bundle.data_bytes_remaining = before + bonus_data_bytes
        log.entry(
            bundle,
            LedgerAccount.data,
            delta=bonus_data_bytes,
            before=before,
            cause=LedgerCause.promotion,
        )
    for release in decided.releases:
        log.release(bundles[release.bundle_id], release, into=bundle)
    for replaced_id in decided.replaces:
        _close(bundles[replaced_id], now=now)

    card_service.mark_active(card, validity_ends_at=decided.validity_ends_at, now=now)
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

    def release(self, old: Bundle, release: Release, *, into: Bundle) -> None:
        """Take ``release`` out of ``old``; if carried, into ``into`` (both sides recorded)."""
        left = release.amount
        if left is None:
            return  # an unlimited allowance: nothing counted, nothing to write
        kind = release.kind
        carried = release.outcome is Outcome.carried
        cause = LedgerCause.rollover if carried else LedgerCause.replacement
        kind.set_remaining(old, 0)
        self.entry(old, kind.account, delta=-left, before=left, cause=cause)
        if carried:
            target = kind.remaining(into)
            assert target is not None  # the policy carries only into finite allowances
            kind.set_remaining(into, target + left)
            self.entry(into, kind.account, delta=left, before=target, cause=cause)

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


def _close(old: Bundle, *, now: datetime) -> None:
    old.state = BundleState.revoked
    old.expires_at = max(now, old.starts_at + timedelta(microseconds=1))


def run_schedule(session: Session, *, now: datetime) -> tuple[int, int]:
    """Start queued bundles whose time has come (carrying rollover) and expire ended ones."""
    # Starting one moves allowance between its card's bundles: their cards are locked first.
    card_service.lock(session, repository.cards_with_bundles_due_to_start(session, now=now))
    due = repository.due_to_start_for_update(session, now=now)
    # One bundle that cannot start is logged and counted (its savepoint rolled back alone);
    # the others start, and it is tried again on the next pass.
    failed = sweep.for_each(
        "card.lifecycle",
        due,
        lambda item: _start(session, *item),
        item_id=lambda item: item[0].id,
        session=session,
    )
    started = len(due) - failed
    expired = repository.expire_ended(session, now=now)
    return started, expired


def _start(session: Session, bundle: Bundle, plan: Plan) -> None:
    """Start one queued bundle, carrying rollover from those that ended as it starts."""
    if plan.rollover:
        ended = repository.ended_at_for_update(session, bundle.card_id, ended_at=bundle.starts_at)
        log = _Ledger(
            session, card_id=bundle.card_id, order_id=bundle.order_id, actor=None, reason=None
        )
        by_id = {previous.id: previous for previous in ended}
        for release in carry_at_start(ended, plan):
            log.release(by_id[release.bundle_id], release, into=bundle)
    bundle.state = BundleState.active
    session.flush()


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
