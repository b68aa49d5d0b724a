"""The SMPP provider against the fake SMSC on loopback, through the real send job and the
inbox (committed transactions: receipts are stored by the session's own thread)."""

from __future__ import annotations

import asyncio

import smpp34
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_card
from tests.sms.conftest import handle_inbox, wait_for_inbox
from tests.sms.fake_smsc import FakeSmsc
from tulpar.integrations.sms.smpp import SmppConfig, SmppProvider
from tulpar.models import Notification, NotificationState
from tulpar.models.notification import NotificationPart
from tulpar.notification import service
from tulpar.notification.tasks import deliver

CHINESE_PLAN = {"zh-Hans": "哈萨克斯坦 30天 20GB 畅游套餐", "ru": "Т", "kk": "Т", "en": "T"}


def _queue(factory: sessionmaker[Session], *, template: str, context: dict[str, object], **card):
    with factory() as session:
        if template == "renewal_confirmed":
            created, _ = create_active_card(session, **card)
        else:
            created = create_card(session, **card)
        notification = service.queue_sms(
            session, card_id=created.id, template=template, context=context, dedupe_key="n-1"
        )
        assert notification is not None
        session.commit()
        return notification.id, created


def _notification(factory: sessionmaker[Session], notification_id: int) -> Notification:
    with factory() as session:
        found = session.get(Notification, notification_id)
        assert found is not None
        return found


def _parts(factory: sessionmaker[Session], notification_id: int) -> list[NotificationPart]:
    with factory() as session:
        query = (
            select(NotificationPart)
            .where(NotificationPart.notification_id == notification_id)
            .order_by(NotificationPart.part_number)
        )
        return list(session.scalars(query))


def test_a_multipart_chinese_confirmation_arrives_intact_and_is_delivered_through_the_inbox(
    committed: sessionmaker[Session], smsc: FakeSmsc, smpp: SmppProvider
) -> None:
    notification_id, _ = _queue(
        committed, template="renewal_confirmed", context={"plan": CHINESE_PLAN}, language="zh-Hans"
    )
    deliver(committed, notification_id)

    sent = _notification(committed, notification_id)
    assert sent.segment_count == 2
    parts = smsc.wait_for(2)
    assert [(part.data_coding, part.esm_class & 0x40) for part in parts] == [(8, 0x40)] * 2
    assert all(part.septets_or_units <= 67 for part in parts)
    assert smsc.messages() == [sent.body]
    # Ids stay the SMSC's strings (leading zeros and all), one per part.
    recorded = _parts(committed, notification_id)
    assert sorted(part.provider_message_id for part in recorded) == sorted(
        part.message_id for part in parts
    )
    assert all(part.provider_message_id.startswith("00") for part in recorded)
    assert (sent.state, sent.provider, sent.provider_message_id) == (
        NotificationState.sent,
        "smpp",
        recorded[0].provider_message_id,
    )

    receipts = wait_for_inbox(committed, count=2, source="smpp")
    assert sorted(message.external_id for message in receipts) == sorted(
        f"{part.message_id}:DELIVRD" for part in parts
    )
    outcomes = handle_inbox(committed, receipts)

    # The first receipt leaves the message sent; the second (either part) delivers it.
    assert [outcome.split(": ", 1)[1] for outcome in outcomes if outcome] == [
        "DELIVRD (message sent)",
        "DELIVRD (message delivered)",
    ]
    delivered = _notification(committed, notification_id)
    assert (delivered.state, delivered.delivery_status, delivered.delivery_error_code) == (
        NotificationState.delivered,
        "DELIVRD",
        "000",
    )
    assert [part.delivery_status for part in _parts(committed, notification_id)] == ["DELIVRD"] * 2


def test_a_gsm7_text_with_euro_and_braces_goes_in_parts_of_at_most_153_septets(
    committed: sessionmaker[Session], smsc: FakeSmsc, smpp: SmppProvider
) -> None:
    code = "€{}" * 30  # 90 characters, 180 septets, plus the template's text
    notification_id, _ = _queue(committed, template="otp", context={"code": code}, language="en")
    deliver(committed, notification_id)

    sent = _notification(committed, notification_id)
    parts = smsc.wait_for(sent.segment_count)
    assert sent.encoding == "gsm7"
    assert len(parts) == sent.segment_count == 2
    assert all(part.data_coding == 0 for part in parts)
    assert all(part.septets_or_units <= 153 for part in parts)
    # An escape pair is never split: each part decodes on its own to whole characters.
    assert smsc.messages() == [f"Tulpar code: {code}. Valid for 5 minutes. Never share it."]


def test_throttling_is_waited_out_and_the_part_submitted_again(
    committed: sessionmaker[Session], smsc: FakeSmsc, smpp: SmppProvider
) -> None:
    smsc.throttle_next = 3
    notification_id, _ = _queue(committed, template="otp", context={"code": "123456"})
    deliver(committed, notification_id)

    assert smsc.throttled == 3
    assert smsc.messages() == ["【Tulpar】验证码：123456，5分钟内有效。请勿告诉他人。"]
    assert _notification(committed, notification_id).state is NotificationState.sent


def test_a_refused_destination_marks_the_message_failed_without_retrying(
    committed: sessionmaker[Session], smsc: FakeSmsc, smpp: SmppProvider
) -> None:
    smsc.refuse_with = smpp34.ESME_RINVDSTADR  # type: ignore[attr-defined]
    notification_id, _ = _queue(committed, template="otp", context={"code": "123456"})
    deliver(committed, notification_id)
    deliver(committed, notification_id)  # a second run finds it failed and sends nothing

    failed = _notification(committed, notification_id)
    assert (failed.state, failed.error) == (
        NotificationState.failed,
        "SMSC refused part 1/1: ESME_RINVDSTADR",
    )
    assert smsc.submitted == []


def test_an_undelivered_receipt_marks_the_message_failed_with_its_error(
    committed: sessionmaker[Session], smsc: FakeSmsc, smpp: SmppProvider
) -> None:
    smsc.receipt_status, smsc.receipt_error = "UNDELIV", "011"
    notification_id, _ = _queue(committed, template="otp", context={"code": "123456"})
    deliver(committed, notification_id)
    handle_inbox(committed, wait_for_inbox(committed, count=1, source="smpp"))

    failed = _notification(committed, notification_id)
    assert (failed.state, failed.error, failed.delivery_status) == (
        NotificationState.failed,
        "part 1: not delivered: UNDELIV (error 011)",
        "UNDELIV",
    )


def test_a_text_to_our_number_is_answered_with_the_balance(
    committed: sessionmaker[Session], smsc: FakeSmsc, smpp: SmppProvider
) -> None:
    smsc.receipts = False
    with committed() as session:
        card, _ = create_active_card(session, language="ru")
        session.commit()
    smpp.start()
    smsc.send_inbound(str(card.msisdn), " баланс ")

    (text,) = wait_for_inbox(committed, count=1, source="smpp")
    assert (text.kind, text.subject, text.payload["text"]) == ("inbound", card.msisdn, " баланс ")
    assert handle_inbox(committed, [text]) == ["answered: balance_reply"]
    with committed() as session:
        (reply,) = service.for_card(session, card.id)
    assert reply.template == "balance_reply"
    assert reply.body.startswith("Tulpar: баланс. Действует до ")


def test_closing_the_provider_leaves_no_task_of_its_session_behind(smsc: FakeSmsc) -> None:
    provider = SmppProvider(
        SmppConfig(
            host=smsc.host, port=smsc.port, system_id="tulpar", password="secret", sender="Tulpar"
        ),
        on_inbound=lambda arrival: None,
    )
    provider.start()  # the session's tasks run on the provider's own loop
    loop = provider._loop
    assert loop is not None
    provider.close()
    assert loop.is_closed()
    assert all(task.done() for task in asyncio.all_tasks(loop))
