"""What applying a plan to a card will do, decided without touching the database.

``plan_renewal`` is the one place the renewal policy lives: ``service.apply_plan`` executes its
quote and ``service.quote`` shows it before payment, so what a channel promises and what the
card gets cannot differ.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tulpar.bundle.allowances import ALLOWANCE_KINDS, AllowanceKind
from tulpar.models import Bundle, Plan, RenewalPolicy


@dataclass(frozen=True, slots=True)
class Allowances:
    """An amount of each allowance; ``None`` means an unlimited allowance."""

    data_bytes: int | None = 0
    voice_seconds: int | None = 0
    sms_count: int | None = 0

    def of(self, kind: AllowanceKind) -> int | None:
        value: int | None = getattr(self, kind.unit_column)
        return value


class Outcome(enum.StrEnum):
    carried = "carried"  # added to the new bundle
    forfeited = "forfeited"  # lost to the traveller
    covered = "covered"  # the new allowance is unlimited: nothing to carry, nothing lost


@dataclass(frozen=True, slots=True)
class Release:
    """What one bundle gives up of one allowance. ``amount`` ``None``: an unlimited one."""

    bundle_id: int
    kind: AllowanceKind
    amount: int | None
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class RenewalQuote:
    """What renewing a card with a plan does.

    ``carried_over`` is added to the new bundle's allowances; ``forfeited`` is what the
    traveller loses (``None``: an unlimited allowance given up before its end). ``replaces``
    are the bundles closed now (``extend``). For ``queue``, nothing is closed now:
    ``carried_over`` is what is left now of the bundles ending when the new one starts, an
    upper bound since usage until then draws it down; it moves only with a rollover plan.
    """

    policy: RenewalPolicy
    starts_at: datetime
    expires_at: datetime
    validity_ends_at: datetime
    carried_over: Allowances
    forfeited: Allowances
    replaces: tuple[int, ...]
    releases: tuple[Release, ...]


def plan_renewal(
    card_validity_ends_at: datetime | None,
    bundles: Sequence[Bundle],
    plan: Plan,
    *,
    now: datetime,
    bonus_days: int = 0,
) -> RenewalQuote:
    """Quote applying ``plan`` at ``now`` to a card whose validity ends at
    ``card_validity_ends_at``, holding ``bundles`` (its bundles not yet ended at ``now``).
    ``bonus_days`` (a promotion's) lengthen the new bundle like the plan's own days.

    ``extend``: starts now, ends ``max(now, validity end) + plan days``; every bundle valid now
    is replaced, its unused allowance carried over with ``rollover``, otherwise forfeited.
    ``queue``: starts at ``max(now, validity end)``, lasts the plan's days; nothing is replaced.
    """
    current_end = max(now, card_validity_ends_at or now)
    validity = timedelta(days=plan.validity_days + bonus_days)
    if plan.renewal_policy is RenewalPolicy.extend:
        starts_at, expires_at = now, current_end + validity
        replaced = [bundle for bundle in bundles if bundle.starts_at <= now < bundle.expires_at]
        releases = tuple(_closing(replaced, plan))
        carried, forfeited = _totals(releases)
        replaces = tuple(bundle.id for bundle in replaced)
    else:
        starts_at, expires_at = current_end, current_end + validity
        ending = [bundle for bundle in bundles if bundle.expires_at == starts_at]
        carried, _ = _totals(carry_at_start(ending, plan))
        forfeited, releases, replaces = Allowances(), (), ()
    return RenewalQuote(
        policy=plan.renewal_policy,
        starts_at=starts_at,
        expires_at=expires_at,
        validity_ends_at=max(expires_at, current_end),
        carried_over=carried,
        forfeited=forfeited,
        replaces=replaces,
        releases=releases,
    )


def carry_at_start(previous: Iterable[Bundle], plan: Plan) -> tuple[Release, ...]:
    """What a queued bundle of ``plan`` takes over from the bundles that ended as it starts.

    Only with ``rollover``, and only finite remainders into finite allowances: an ended
    bundle is not closed early, so what it does not pass on simply expires with it.
    """
    if not plan.rollover:
        return ()
    return tuple(
        Release(bundle.id, kind, left, Outcome.carried)
        for bundle in previous
        for kind in ALLOWANCE_KINDS
        if (left := kind.remaining(bundle)) and kind.planned(plan) is not None
    )


def _closing(replaced: Iterable[Bundle], plan: Plan) -> Iterable[Release]:
    for bundle in replaced:
        for kind in ALLOWANCE_KINDS:
            left = kind.remaining(bundle)
            if left == 0:
                continue
            if kind.planned(plan) is None:
                outcome = Outcome.covered
            elif plan.rollover and left is not None:
                outcome = Outcome.carried
            else:
                # Without rollover, or an unlimited allowance a finite one cannot take over.
                outcome = Outcome.forfeited
            yield Release(bundle.id, kind, left, outcome)


def _totals(releases: Iterable[Release]) -> tuple[Allowances, Allowances]:
    carried = {kind.unit_column: 0 for kind in ALLOWANCE_KINDS}
    forfeited: dict[str, int | None] = {kind.unit_column: 0 for kind in ALLOWANCE_KINDS}
    for release in releases:
        column = release.kind.unit_column
        if release.outcome is Outcome.carried:
            assert release.amount is not None  # an unlimited allowance is never carried
            carried[column] += release.amount
        elif release.outcome is Outcome.forfeited:
            so_far = forfeited[column]
            forfeited[column] = (
                None if so_far is None or release.amount is None else so_far + release.amount
            )
    return Allowances(**carried), Allowances(**forfeited)
