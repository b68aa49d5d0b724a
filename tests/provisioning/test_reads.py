"""Provisioning a paid renewal reads its order, card and plan once in each of its
transactions (the step that starts it and the step that records the carrier's answer): the
steps that follow find the copy the transaction already holds."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.fixtures.sms import RecordingSmsProvider
from tests.provisioning.conftest import create_paid_order, order_state
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.fulfilment import tasks
from tulpar.integrations.sms import use_provider


def _rows_read_per_transaction(statements: list[str]) -> list[Counter[str]]:
    """Whole rows read (``SELECT t.id, t.… FROM t``), by table, in each transaction."""
    transactions: list[Counter[str]] = [Counter()]
    for statement in statements:
        if statement in ("COMMIT", "ROLLBACK"):
            transactions.append(Counter())
        found = re.match(r"SELECT (\w+)\.id, \1\.", statement)
        if found:
            transactions[-1][found.group(1)] += 1
    return [read for read in transactions if read]


def test_a_renewal_reads_its_order_card_and_plan_once_per_transaction(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    with committed() as session:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)
        order_id = create_paid_order(session, card=card, plan=plan).id
        session.commit()
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(" ".join(str(args[2]).split()))

    def commit(connection: object) -> None:
        seen.append("COMMIT")

    with (
        simulator_in_thread(SimulatorSettings()) as simulator,
        use_provider(RecordingSmsProvider()),
    ):
        configure(carrier_url=simulator.url)
        event.listen(Engine, "before_cursor_execute", record)
        event.listen(Engine, "commit", commit)
        try:
            tasks.apply(order_id=order_id)
        finally:
            event.remove(Engine, "before_cursor_execute", record)
            event.remove(Engine, "commit", commit)

    assert order_state(committed, order_id) == "completed"
    reads = _rows_read_per_transaction(seen)
    starting, recording = reads[0], reads[1]
    assert (starting["orders"], starting["cards"], starting["plans"]) == (1, 1, 1), starting
    # The card twice: checked, then locked when its bundle is applied.
    assert (recording["orders"], recording["cards"], recording["plans"]) == (1, 2, 1), recording
