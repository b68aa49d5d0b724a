"""/backoffice/webhooks over HTTP: support and admin read the delivery log with each
delivery's answers and an event's body and attempts; an admin replays an event, which the
receiver then gets again with the same id (a double click queues it once), audited; a replay
without the form's token, or by support, is refused and changes nothing."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.backoffice_webhooks.conftest import completed_order_event, signed_in
from tests.partner_webhook.conftest import Receiver, run_due
from tulpar import clock
from tulpar.models import AuditEntry, PartnerWebhookDelivery, WebhookDeliveryState
from tulpar.partner_webhook import endpoints, signing
from tulpar.web.backoffice import webhooks as webhook_pages

LOG = "/backoffice/webhooks"
_REPLAY_FORM = re.compile(
    r'<form method="post" action="(/backoffice/webhooks/\d+/replay)"[^>]*>\s*'
    r'<input type="hidden" name="csrf" value="([^"]+)">'
)


def _deliveries(session: Session, event_id: int) -> list[WebhookDeliveryState]:
    query = select(PartnerWebhookDelivery.state).where(PartnerWebhookDelivery.event_id == event_id)
    return list(session.scalars(query.order_by(PartnerWebhookDelivery.id)))


def _replays_audited(session: Session) -> int:
    query = select(func.count()).where(AuditEntry.action == "webhooks.replay")
    return int(session.scalar(query) or 0)


def _replay(client: TestClient, event_id: int, csrf: str | None) -> httpx.Response:
    data = {} if csrf is None else {"csrf": csrf}
    answer: httpx.Response = client.post(
        f"{LOG}/{event_id}/replay", data=data, follow_redirects=False
    )
    return answer


def test_support_reads_the_log_with_the_receivers_answers_but_cannot_replay(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
    now: datetime,
) -> None:
    receiver.script = [503]
    sent = completed_order_event(session, receiver)
    assert run_due(session_factory, http) == 1
    _, csrf = signed_in(client, session, "support")

    log = client.get(LOG)

    assert log.status_code == 200
    row = log.text[log.text.index(f'data-event="{sent.event_id}"') :]
    assert sent.public_id in row
    assert "order.completed" in row
    assert "HTTP 503" in row
    assert "temporarily down, try later" in row
    assert clock.to_local(now + timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M") in row
    assert 'data-test="replay"' not in log.text
    event_page = client.get(f"{LOG}/{sent.event_id}")
    assert event_page.status_code == 200
    assert 'data-test="replay"' not in event_page.text

    refused = _replay(client, sent.event_id, csrf)

    assert refused.status_code == 403
    assert _deliveries(session, sent.event_id) == [WebhookDeliveryState.pending]
    assert _replays_audited(session) == 0


def test_an_admin_replays_an_event_from_its_page_and_the_receiver_gets_the_same_id(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
    now: datetime,
) -> None:
    sent = completed_order_event(session, receiver)
    assert run_due(session_factory, http) == 1
    admin, session_csrf = signed_in(client, session, "admin")
    page = client.get(f"{LOG}/{sent.event_id}")
    assert page.status_code == 200
    # The button's own form carries the session's token and posts where the replay is.
    found = _REPLAY_FORM.search(page.text)
    assert found is not None, page.text
    action, csrf = found.groups()
    assert (action, csrf) == (f"{LOG}/{sent.event_id}/replay", session_csrf)
    log_form = _REPLAY_FORM.search(client.get(LOG).text)
    assert log_form is not None
    assert log_form.groups() == (action, csrf)
    body = html.unescape(page.text)
    assert f'"id": "{sent.public_id}"' in body  # the body partners receive
    assert "HTTP 200" in body
    assert '{"ok":true}' in body
    assert 'data-test="replay"' in page.text

    with clock.frozen(now + timedelta(minutes=10)):
        first = _replay(client, sent.event_id, csrf)
        second = _replay(client, sent.event_id, csrf)  # a double click
        assert (first.status_code, second.status_code) == (303, 303)
        assert first.headers["location"] == f"{LOG}/{sent.event_id}?replayed=1"
        assert second.headers["location"] == f"{LOG}/{sent.event_id}?replayed=0"
        assert "Replay queued" in client.get(first.headers["location"]).text
        assert "already on its way" in client.get(second.headers["location"]).text
        assert _deliveries(session, sent.event_id) == [
            WebhookDeliveryState.delivered,
            WebhookDeliveryState.pending,
        ]
        assert run_due(session_factory, http) == 1

    original, replayed = receiver.requests
    assert replayed.body == original.body
    assert json.loads(replayed.body)["id"] == sent.public_id
    assert replayed.headers["tulpar-event-id"] == sent.public_id
    signing.verify_event(
        sent.secret,
        replayed.headers["tulpar-signature"],
        replayed.body,
        now=(now + timedelta(minutes=10)).timestamp(),
    )
    assert _replays_audited(session) == 1
    after = client.get(f"{LOG}/{sent.event_id}").text
    assert after.count('data-delivery="') == 2
    assert f"replayed by staff:{admin.username}" in after


@pytest.mark.parametrize("csrf", [None, "not-the-token"])
def test_a_replay_without_the_forms_token_is_refused_and_changes_nothing(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
    csrf: str | None,
) -> None:
    sent = completed_order_event(session, receiver)
    assert run_due(session_factory, http) == 1
    signed_in(client, session, "admin")

    refused = _replay(client, sent.event_id, csrf)

    assert refused.status_code == 403
    assert _deliveries(session, sent.event_id) == [WebhookDeliveryState.delivered]
    assert _replays_audited(session) == 0
    assert run_due(session_factory, http) == 0
    assert len(receiver.requests) == 1


def test_the_log_filters_by_partner_and_state_and_pages_older_events(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver.script = [500]  # the first event's first attempt; the second's goes through
    waiting = completed_order_event(session, receiver, "Partner A")
    assert run_due(session_factory, http) == 1
    delivered = completed_order_event(session, receiver, "Partner B")
    assert run_due(session_factory, http) == 1
    signed_in(client, session, "support")

    def shown(query: str) -> list[str]:
        text = client.get(f"{LOG}?{query}").text
        return [e.public_id for e in (delivered, waiting) if e.public_id in text]

    assert shown("") == [delivered.public_id, waiting.public_id]
    assert shown(f"partner={waiting.partner_id}") == [waiting.public_id]
    assert shown("state=pending") == [waiting.public_id]
    assert shown("state=delivered") == [delivered.public_id]
    assert shown(f"state=failed&partner={delivered.partner_id}") == []
    assert shown("state=nonsense&partner=x") == [delivered.public_id, waiting.public_id]

    monkeypatch.setattr(webhook_pages, "PAGE_SIZE", 1)
    newest = client.get(LOG).text
    assert delivered.public_id in newest
    assert waiting.public_id not in newest
    older = f"{LOG}?partner=&state=&before={delivered.event_id}"
    assert f'href="{html.escape(older)}"' in newest
    last = client.get(older).text
    assert waiting.public_id in last
    assert delivered.public_id not in last
    assert 'data-test="older"' not in last


def test_an_unknown_event_is_not_found_in_the_staff_members_language(
    client: TestClient, session: Session
) -> None:
    user, csrf = signed_in(client, session, "admin")
    user.language = "ru"
    session.commit()

    page = client.get(f"{LOG}/987654321")
    replay = _replay(client, 987654321, csrf)

    assert page.status_code == 404
    assert "Событие вебхука не найдено" in page.text
    assert replay.status_code == 404
    assert _replays_audited(session) == 0


@pytest.mark.parametrize("role", ["clerk", "store_manager"])
def test_a_store_role_may_neither_read_the_log_nor_replay(
    client: TestClient, session: Session, receiver: Receiver, role: str
) -> None:
    sent = completed_order_event(session, receiver)
    _, csrf = signed_in(client, session, role)

    assert client.get(LOG).status_code == 403
    assert client.get(f"{LOG}/{sent.event_id}").status_code == 403
    assert _replay(client, sent.event_id, csrf).status_code == 403
    assert _deliveries(session, sent.event_id) == []  # not even dispatched
    assert _replays_audited(session) == 0


def test_a_replay_when_the_partner_has_no_live_endpoint_says_so_and_changes_nothing(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    sent = completed_order_event(session, receiver)
    assert run_due(session_factory, http) == 1
    endpoints.delete(session, sent.partner, sent.endpoint_id)
    user, csrf = signed_in(client, session, "admin")
    user.language = "zh-Hans"
    session.commit()

    refused = _replay(client, sent.event_id, csrf)

    assert refused.status_code == 409
    assert "该合作伙伴没有接收此事件的有效端点" in refused.text
    assert 'data-delivery="' in refused.text  # the event's page, with what was sent
    assert _deliveries(session, sent.event_id) == [WebhookDeliveryState.delivered]
    assert _replays_audited(session) == 0


def test_the_event_page_links_its_stylesheet_which_is_served_and_nothing_else_is(
    client: TestClient, session: Session, receiver: Receiver
) -> None:
    sent = completed_order_event(session, receiver)
    signed_in(client, session, "support")

    page = client.get(f"{LOG}/{sent.event_id}").text
    sheet = client.get(f"{LOG}/static/webhooks.css")

    assert '<link rel="stylesheet" href="/backoffice/webhooks/static/webhooks.css">' in page
    assert (sheet.status_code, sheet.headers["content-type"]) == (200, "text/css; charset=utf-8")
    assert "pre-wrap" in sheet.text  # long lines of the body wrap at phone size
    assert client.get(f"{LOG}/static/pages.py").status_code == 404
