"""The one inbox: stored once per (source, external id) with one handling job; handled once;
messages whose job went missing are queued again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.fulfilment import inbox as fulfilment_inbox
from tulpar.inbox import service as inbox_service
from tulpar.models import InboxMessage


def _jobs(session: Session) -> int:
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs"
                " WHERE task_name = :task AND status = 'todo'"
            ),
            {"task": inbox_service.HANDLE_TASK},
        ).scalar_one()
    )


def _arrival(external_id: str, *, source: str = "carrier") -> inbox_service.Arrival:
    return inbox_service.Arrival(
        source=source, external_id=external_id, kind="applied", payload={"n": 1}, subject="ref"
    )


def test_a_message_is_stored_once_per_source_and_id_with_one_job(session: Session) -> None:
    assert inbox_service.store(session, _arrival("evt-1"))
    assert not inbox_service.store(session, _arrival("evt-1"))
    # The same id from another sender is another message.
    assert inbox_service.store(session, _arrival("evt-1", source="sandbox"))

    assert session.scalar(select(func.count()).select_from(InboxMessage)) == 2
    assert _jobs(session) == 2


def test_a_message_without_a_handler_is_stamped_once(session: Session) -> None:
    inbox_service.store(session, _arrival("evt-9", source="elsewhere"))
    message_id = session.scalars(select(InboxMessage.id)).one()

    first = fulfilment_inbox.handle(session, message_id)
    again = fulfilment_inbox.handle(session, message_id)

    assert first == "ignored: no handler for elsewhere"
    assert again is None
    stored = session.get_one(InboxMessage, message_id)
    assert stored.handled_at is not None
    assert stored.outcome == first


def test_messages_whose_job_went_missing_are_queued_again_once(session: Session) -> None:
    inbox_service.store(session, _arrival("evt-2"))
    session.execute(text("DELETE FROM procrastinate_jobs"))
    assert _jobs(session) == 0

    assert inbox_service.requeue_unhandled(session, now=clock.now()) == 0  # too young
    later = clock.now() + inbox_service.REQUEUE_AFTER + timedelta(seconds=1)
    assert inbox_service.requeue_unhandled(session, now=later) == 1
    assert inbox_service.requeue_unhandled(session, now=later) == 1  # counted, not doubled

    assert _jobs(session) == 1
