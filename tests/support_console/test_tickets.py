"""Tickets: an SLA due time per kind, the queue with overdue tickets first, assignment,
internal notes, replies by SMS in the card's language, allowed status moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card
from tests.support_console.conftest import Recorded, rows, staff
from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.errors import ForbiddenError
from tulpar.models import Notification, Ticket, TicketEntry, TicketKind, TicketStatus
from tulpar.support import service as support_service
from tulpar.support import tickets

SUPPORT = staff("support")


def _question(
    session: Session, *, language: str = "zh-Hans", msisdn: str | None = "auto"
) -> Ticket:
    card = create_card(session, language=language, msisdn=msisdn)
    return support_service.ask(
        session, auth_service.traveller(card.id), message="我的套餐没有生效", order_id=None
    )


def test_the_queue_lists_overdue_tickets_first(session: Session) -> None:
    start = clock.now()
    with clock.frozen(start - timedelta(days=2)):
        old_question = _question(session)  # due a day later: overdue now
    with clock.frozen(start):
        fresh = _question(session)
        card = create_card(session)
        urgent = support_service.open_ticket(
            session,
            card_id=card.id,
            order_id=None,
            kind=TicketKind.refund_failed,
            subject="refund failed",
            timeline=[],
            opened_by="system",
        )
        assert urgent is not None
        assert urgent.due_at == start + timedelta(minutes=240)
        assert fresh.due_at == start + timedelta(hours=24)
        rows_ = tickets.queue(session, SUPPORT)
    ids = [row.ticket.id for row in rows_]
    assert ids.index(old_question.id) < ids.index(urgent.id) < ids.index(fresh.id)
    assert [row.overdue for row in rows_ if row.ticket.id == old_question.id] == [True]


def test_a_reply_goes_out_in_the_travellers_language(
    session: Session, audited: list[Recorded]
) -> None:
    ticket = _question(session, language="zh-Hans")
    entry = tickets.reply(session, SUPPORT, ticket.id, text="已为您重新开通，请重启手机。")

    sms = session.scalars(
        select(Notification).where(Notification.template == "support_reply")
    ).one()
    assert sms.body == f"【Tulpar客服】（工单{ticket.id}）：已为您重新开通，请重启手机。"
    assert sms.language == "zh-Hans"
    assert entry.notification_id == sms.id
    assert ticket.status is TicketStatus.pending


def test_a_reply_to_a_card_without_a_number_changes_nothing(session: Session) -> None:
    ticket = _question(session, msisdn=None)
    with pytest.raises(tickets.NoRecipientError):
        tickets.reply(session, SUPPORT, ticket.id, text="hello")
    assert rows(session, TicketEntry) == 0
    assert ticket.status is TicketStatus.open


def test_assign_note_and_moves(session: Session, audited: list[Recorded]) -> None:
    ticket = _question(session)
    tickets.assign(session, SUPPORT, ticket.id, staff_id=7, name="aigerim")
    tickets.note(session, SUPPORT, ticket.id, text="carrier ticket #55 opened")
    tickets.move(session, SUPPORT, ticket.id, to=TicketStatus.resolved, reason="applied")
    with pytest.raises(tickets.TicketMoveRefusedError):
        tickets.move(session, SUPPORT, ticket.id, to=TicketStatus.pending, reason="x")
    tickets.move(session, SUPPORT, ticket.id, to=TicketStatus.closed, reason="confirmed")
    with pytest.raises(tickets.TicketMoveRefusedError):
        tickets.move(session, SUPPORT, ticket.id, to=TicketStatus.open, reason="x")

    assert ticket.assignee == "aigerim"
    assert ticket.status is TicketStatus.closed
    kinds = [e.kind.value for e in tickets.entries(session, ticket.id)]
    assert kinds == ["assignment", "note", "status", "status"]
    assert [(r.action, r.before, r.after) for r in audited] == [
        (
            "ticket.assign",
            {"assignee_staff_id": None, "assignee": None},
            {"assignee_staff_id": 7, "assignee": "aigerim"},
        ),
        ("ticket.move", {"status": "open"}, {"status": "resolved"}),
        ("ticket.move", {"status": "resolved"}, {"status": "closed"}),
    ]


def test_a_clerk_opens_a_ticket_but_cannot_work_it(session: Session) -> None:
    card = create_card(session)
    ticket = tickets.open_by_staff(
        session, staff("clerk", store_id=1), card=card, order_id=None, message="Renewal failed"
    )
    assert ticket.kind is TicketKind.question
    assert ticket.opened_by == "staff:7:clerk"
    with pytest.raises(ForbiddenError):
        tickets.reply(session, staff("clerk"), ticket.id, text="x")
    with pytest.raises(ForbiddenError):
        tickets.queue(session, staff("clerk"))
    assert rows(session, Notification) == 0
    assert rows(session, TicketEntry) == 0
