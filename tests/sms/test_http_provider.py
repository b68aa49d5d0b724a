"""The Twilio-style HTTP provider against a local fake (httpx MockTransport), and its status
callbacks through the signed endpoint and the inbox."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card
from tests.sms.twilio import AUTH_TOKEN, PUBLIC_URL, post_signed
from tulpar.fulfilment import inbox
from tulpar.integrations.sms import SmsMessage, SmsProviderError, use_provider
from tulpar.integrations.sms.http import HttpSmsConfig, HttpSmsProvider
from tulpar.integrations.sms.twilio_signature import compute
from tulpar.models import InboxMessage, Notification, NotificationState
from tulpar.notification import service
from tulpar.notification.tasks import deliver

SID = "AC0123456789abcdef0123456789abcdef"
STATUS_PATH = "/v1/sms/twilio/status"


def _provider(handler: Callable[[httpx.Request], httpx.Response]) -> HttpSmsProvider:
    return HttpSmsProvider(
        HttpSmsConfig(
            base_url="https://sms.example",
            account_sid=SID,
            auth_token=AUTH_TOKEN,
            sender="+77000000000",
            status_callback_url=PUBLIC_URL + STATUS_PATH,
            timeout_seconds=2,
        ),
        transport=httpx.MockTransport(handler),
    )


@pytest.fixture
def twilio_settings(configure: Callable[..., None]) -> None:
    configure(sms_http_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_URL)


class TestSending:
    def test_posts_the_message_form_with_basic_auth_and_returns_the_sid(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(201, json={"sid": "SM42", "status": "queued"})

        receipt = _provider(handler).send(
            SmsMessage(recipient="+77011234567", text="余额 5 GB", idempotency_key="k")
        )

        assert (receipt.provider, receipt.provider_message_id, receipt.state) == (
            "http",
            "SM42",
            "sent",
        )
        (request,) = seen
        assert request.method == "POST"
        assert str(request.url) == f"https://sms.example/2010-04-01/Accounts/{SID}/Messages.json"
        assert request.headers["Authorization"] == httpx.BasicAuth(SID, AUTH_TOKEN)._auth_header
        assert dict(parse_qsl(request.content.decode())) == {
            "From": "+77000000000",
            "To": "+77011234567",
            "Body": "余额 5 GB",
            "StatusCallback": PUBLIC_URL + STATUS_PATH,
        }

    @pytest.mark.parametrize("status", [429, 500, 503])
    def test_busy_answers_are_transient(self, status: int) -> None:
        provider = _provider(lambda request: httpx.Response(status))
        with pytest.raises(SmsProviderError) as raised:
            provider.send(SmsMessage(recipient="+77011234567", text="x", idempotency_key="k"))
        assert not raised.value.permanent

    def test_a_timeout_is_transient(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("slow", request=request)

        with pytest.raises(SmsProviderError) as raised:
            _provider(handler).send(
                SmsMessage(recipient="+77011234567", text="x", idempotency_key="k")
            )
        assert not raised.value.permanent

    def test_a_refused_number_is_permanent_with_the_providers_reason(self) -> None:
        provider = _provider(
            lambda request: httpx.Response(
                400, json={"code": 21211, "message": "The 'To' number is not valid."}
            )
        )
        with pytest.raises(SmsProviderError) as raised:
            provider.send(SmsMessage(recipient="+77011234567", text="x", idempotency_key="k"))
        assert raised.value.permanent
        assert str(raised.value) == (
            "SMS provider refused: HTTP 400 code 21211: The 'To' number is not valid."
        )


def _sent_notification(
    session: Session, session_factory: sessionmaker[Session], *, sid: str = "SM42"
) -> Notification:
    card = create_card(session, language="en")
    notification = service.queue_sms(
        session, card_id=card.id, template="otp", context={"code": "123456"}, dedupe_key="n"
    )
    assert notification is not None
    session.commit()
    provider = _provider(lambda request: httpx.Response(201, json={"sid": sid}))
    with use_provider(provider):
        deliver(session_factory, notification.id)
    session.refresh(notification)
    assert (notification.state, notification.provider_message_id) == (NotificationState.sent, sid)
    return notification


def _inbox(session: Session) -> list[InboxMessage]:
    return list(session.scalars(select(InboxMessage).order_by(InboxMessage.id)))


@pytest.mark.usefixtures("twilio_settings")
class TestStatusCallbacks:
    def test_a_signed_delivered_status_marks_the_message_delivered_through_the_inbox(
        self, session: Session, session_factory: sessionmaker[Session], client: TestClient
    ) -> None:
        notification = _sent_notification(session, session_factory)
        form = {"MessageSid": "SM42", "MessageStatus": "delivered", "AccountSid": SID}

        response = post_signed(client, STATUS_PATH, form)
        replay = post_signed(client, STATUS_PATH, form)

        assert (response.status_code, response.json()) == (
            200,
            {"received": True, "duplicate": False},
        )
        assert replay.json() == {"received": True, "duplicate": True}
        (message,) = _inbox(session)
        assert (message.source, message.external_id, message.kind) == (
            "twilio",
            "SM42:delivered",
            "delivery_report",
        )
        assert inbox.handle(session, message.id) == "delivered: delivered"
        session.refresh(notification)
        assert (notification.state, notification.delivery_status) == (
            NotificationState.delivered,
            "delivered",
        )

    def test_a_late_sent_status_does_not_move_a_delivered_message_back(
        self, session: Session, session_factory: sessionmaker[Session], client: TestClient
    ) -> None:
        notification = _sent_notification(session, session_factory)
        for status in ("delivered", "sent"):
            post_signed(client, STATUS_PATH, {"MessageSid": "SM42", "MessageStatus": status})
        outcomes = [inbox.handle(session, message.id) for message in _inbox(session)]

        assert outcomes == ["delivered: delivered", "ignored: sent for a delivered message"]
        session.refresh(notification)
        assert notification.state is NotificationState.delivered

    def test_an_undelivered_status_marks_it_failed_with_the_error_code(
        self, session: Session, session_factory: sessionmaker[Session], client: TestClient
    ) -> None:
        notification = _sent_notification(session, session_factory)
        post_signed(
            client,
            STATUS_PATH,
            {"MessageSid": "SM42", "MessageStatus": "undelivered", "ErrorCode": "30003"},
        )
        (message,) = _inbox(session)
        inbox.handle(session, message.id)

        session.refresh(notification)
        assert (notification.state, notification.error, notification.delivery_error_code) == (
            NotificationState.failed,
            "not delivered: undelivered (error 30003)",
            "30003",
        )

    @pytest.mark.parametrize(
        "signature_of",
        [
            pytest.param(lambda form: "forged", id="forged"),
            pytest.param(None, id="missing"),
            pytest.param("other-token", id="another account's token"),
        ],
    )
    def test_a_forged_callback_is_refused_and_nothing_is_stored(
        self,
        session: Session,
        session_factory: sessionmaker[Session],
        client: TestClient,
        signature_of: object,
    ) -> None:
        notification = _sent_notification(session, session_factory)
        form = {"MessageSid": "SM42", "MessageStatus": "delivered"}
        if signature_of == "other-token":
            response = post_signed(client, STATUS_PATH, form, token="other-token")
        else:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if callable(signature_of):
                headers["X-Twilio-Signature"] = signature_of(form)
            response = client.post(
                STATUS_PATH, content="MessageSid=SM42&MessageStatus=delivered", headers=headers
            )

        assert response.status_code == 401
        assert response.json()["code"] == "invalid_sms_signature"
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 0
        session.refresh(notification)
        assert notification.state is NotificationState.sent

    def test_a_signature_over_a_changed_body_is_refused(
        self, session: Session, client: TestClient
    ) -> None:
        signature = compute(
            AUTH_TOKEN,
            PUBLIC_URL + STATUS_PATH,
            {"MessageSid": "SM1", "MessageStatus": "sent"}.items(),
        )
        response = client.post(
            STATUS_PATH,
            content="MessageSid=SM1&MessageStatus=delivered",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )
        assert response.status_code == 401
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 0

    def test_without_an_auth_token_callbacks_are_disabled(
        self, session: Session, client: TestClient, configure: Callable[..., None]
    ) -> None:
        configure(sms_http_auth_token="")
        response = post_signed(client, STATUS_PATH, {"MessageSid": "SM1", "MessageStatus": "sent"})
        assert response.status_code == 503
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 0
