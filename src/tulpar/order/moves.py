"""The order state machine as a table: each named move, the states it may start from (per
order kind) and where it leads. Nothing else moves an order; every move writes an order event
(see :func:`tulpar.order.service.move`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from tulpar.models import OrderKind, OrderState

_BOTH_KINDS = tuple(OrderKind)


class OrderMove(enum.StrEnum):
    pay = "pay"
    decline_payment = "decline_payment"
    reopen_for_payment = "reopen_for_payment"
    start_provisioning = "start_provisioning"
    complete = "complete"
    fail_provisioning = "fail_provisioning"
    refund = "refund"
    expire = "expire"
    # Support console: a failed renewal applied again; an unpaid order cancelled.
    retry_provisioning = "retry_provisioning"
    cancel = "cancel"


@dataclass(frozen=True, slots=True)
class Transition:
    to_state: OrderState
    from_states: Mapping[OrderKind, frozenset[OrderState]]

    def allows(self, kind: OrderKind, state: OrderState) -> bool:
        return state in self.from_states.get(kind, frozenset())

    def pairs(self) -> list[str]:
        """``kind:state`` pairs this move may start from (what the SQL statement checks)."""
        return sorted(
            f"{kind.value}:{state.value}"
            for kind, states in self.from_states.items()
            for state in states
        )


def _from(
    *states: OrderState, kinds: tuple[OrderKind, ...] = _BOTH_KINDS
) -> dict[OrderKind, frozenset[OrderState]]:
    return {kind: frozenset(states) for kind in kinds}


# States in which the payer may start a new payment attempt.
OPEN_FOR_PAYMENT = frozenset({OrderState.awaiting_payment, OrderState.payment_failed})

TRANSITIONS: Mapping[OrderMove, Transition] = {
    # A late payment for an expired order is honoured rather than left hanging: the payer
    # has paid, so they get what they bought.
    OrderMove.pay: Transition(OrderState.paid, _from(*OPEN_FOR_PAYMENT, OrderState.expired)),
    OrderMove.decline_payment: Transition(
        OrderState.payment_failed, _from(OrderState.awaiting_payment)
    ),
    OrderMove.reopen_for_payment: Transition(
        OrderState.awaiting_payment, _from(OrderState.payment_failed)
    ),
    OrderMove.expire: Transition(OrderState.expired, _from(*OPEN_FOR_PAYMENT)),
    OrderMove.start_provisioning: Transition(
        OrderState.provisioning, _from(OrderState.paid, kinds=(OrderKind.plan_renewal,))
    ),
    # A renewal completes once the carrier applied its bundle; a top-up as soon as it is
    # paid (there is nothing to provision).
    OrderMove.complete: Transition(
        OrderState.completed,
        {
            OrderKind.plan_renewal: frozenset({OrderState.provisioning}),
            OrderKind.wallet_topup: frozenset({OrderState.paid}),
        },
    ),
    OrderMove.fail_provisioning: Transition(
        OrderState.provisioning_failed,
        _from(OrderState.provisioning, kinds=(OrderKind.plan_renewal,)),
    ),
    OrderMove.refund: Transition(
        OrderState.refunded,
        _from(OrderState.paid, OrderState.provisioning_failed, OrderState.completed),
    ),
    # Support retries a failed renewal (its money not refunded) through provisioning again.
    OrderMove.retry_provisioning: Transition(
        OrderState.provisioning,
        _from(OrderState.provisioning_failed, kinds=(OrderKind.plan_renewal,)),
    ),
    # Support cancels an order nobody paid: it ends like an abandoned one (``expired``; the
    # event says who cancelled it and why). A late payment is still honoured, as for any
    # expired order.
    OrderMove.cancel: Transition(OrderState.expired, _from(*OPEN_FOR_PAYMENT)),
}
