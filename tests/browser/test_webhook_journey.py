"""The partner-webhook log and Replay in the back office, in Debian's Chromium (Playwright):
a partner's receiver on loopback answers 500 to every attempt of an ``order.completed``
event until the retry window is over, so its delivery fails. Support signs in (password and
TOTP), reads the failure and the receiver's answer, is offered no Replay and is refused one
posted anyway, with nothing queued. An admin then signs in, finds the failed delivery with
its status and body, opens the event and clicks Replay; once the receiver is back up it gets
the event again with the same event id, signed with the endpoint's secret."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.backoffice_webhooks.conftest import Sent, completed_order_event
from tests.browser.conftest import STAFF_PASSWORD, Tab, create_admin, staff_signs_in
from tests.partner_webhook.conftest import (  # noqa: F401 (fixtures)
    Receiver,
    http,
    receiver,
    run_due,
)
from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.models import AuditEntry, PartnerWebhookDelivery, WebhookDeliveryState
from tulpar.partner_webhook import signing
from tulpar.staff import service as staff_service

LOG = "/backoffice/webhooks"
STEP = timedelta(hours=6)  # the longest wait between two attempts
DOWN = "temporarily down, try later"  # what the receiver answers with its 500


def _states(factory: sessionmaker[Session], event_id: int) -> list[WebhookDeliveryState]:
    with factory() as session:
        query = select(PartnerWebhookDelivery.state).where(
            PartnerWebhookDelivery.event_id == event_id
        )
        return list(session.scalars(query.order_by(PartnerWebhookDelivery.id)))


def _a_delivery_that_failed(
    factory: sessionmaker[Session], to: Receiver, client: httpx.Client
) -> Sent:
    """The event recorded four days ago, each attempt answered 500 until the delivery gave
    up; the receiver answers 200 from then on."""
    to.script = [500] * 40
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=4)
    with clock.frozen(moment):
        with factory() as session:
            sent = completed_order_event(session, to)
        assert run_due(factory, client) == 1
    while _states(factory, sent.event_id) != [WebhookDeliveryState.failed]:
        moment += STEP
        assert moment < datetime.now(UTC), "the delivery never gave up"
        with clock.frozen(moment):
            run_due(factory, client)
    to.script = []
    return sent


def _queued(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    """Deliveries, waiting delivery jobs and replays audited."""
    with factory() as session:
        deliveries = session.scalar(select(func.count()).select_from(PartnerWebhookDelivery))
        jobs = session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs"
                " WHERE task_name = 'partner_webhook.deliver' AND status = 'todo'"
            )
        )
        audited = session.scalar(select(func.count()).where(AuditEntry.action == "webhooks.replay"))
        return int(deliveries or 0), int(jobs or 0), int(audited or 0)


def _staff(factory: sessionmaker[Session]) -> dict[str, str]:
    """An admin and a support user (both with password and TOTP): username → TOTP secret."""
    with factory() as session:
        admin = create_admin(session, "aliya")
        support = staff_service.create_user(
            session,
            auth_service.command_line(),
            username="dana",
            password=STAFF_PASSWORD,
            role="support",
            language="en",
        )
        assert support.totp_secret is not None
        session.commit()
        return {"aliya": admin, "dana": support.totp_secret}


def _opens_the_log(tab: Tab, username: str, secret: str) -> None:
    """Signed in, from the staff home through its link to the delivery log."""
    staff_signs_in(tab, LOG, username, secret)
    if not tab.page.url.endswith(LOG):
        tab.page.click(f"a[href='{LOG}']")
        tab.page.wait_for_url(f"**{LOG}")


def _row(tab: Tab, sent: Sent) -> str:
    """The event's row in the log, after checking the state it shows is ``failed``."""
    row = f"tr[data-event='{sent.event_id}']"
    assert tab.page.inner_text(f"{row} > td:nth-child(4) [data-test=state]") == "failed"
    return tab.page.inner_text(row)


def _support_reads_but_may_not_replay(tab: Tab, sent: Sent) -> None:
    row = _row(tab, sent)
    assert sent.public_id in row
    assert "order.completed" in row
    assert "HTTP 500" in row
    assert DOWN in row
    assert tab.page.locator("[data-test=replay]").count() == 0
    tab.page.click(f"tr[data-event='{sent.event_id}'] a")
    tab.page.wait_for_url(f"**{LOG}/{sent.event_id}")
    assert tab.page.locator("[data-test=replay]").count() == 0
    # A Replay form posted anyway (a page kept open from before, a hand-made request),
    # with this session's own token: the server refuses it.
    csrf = tab.page.get_attribute("input[name=csrf]", "value")
    assert csrf
    with tab.page.expect_response(f"**{LOG}/{sent.event_id}/replay") as answer:
        tab.page.evaluate(
            """([action, token]) => {
              const form = document.createElement("form");
              form.method = "post";
              form.action = action;
              const field = document.createElement("input");
              field.type = "hidden"; field.name = "csrf"; field.value = token;
              form.append(field);
              document.body.append(form);
              form.submit();
            }""",
            [f"{LOG}/{sent.event_id}/replay", csrf],
        )
    assert (answer.value.request.method, answer.value.status) == ("POST", 403)
    tab.page.wait_for_load_state()
    # The browser logs the 403 answers as console errors: those are expected.
    assert [error for error in tab.errors if "403" not in error] == []
    tab.errors.clear()


def _admin_replays_from_the_event_page(tab: Tab, sent: Sent) -> None:
    row = _row(tab, sent)
    assert "HTTP 500" in row
    assert DOWN in row
    assert tab.page.locator(f"tr[data-event='{sent.event_id}'] [data-test=replay]").count() == 1
    tab.check("backoffice-webhooks-log")
    tab.page.click(f"tr[data-event='{sent.event_id}'] a")
    tab.page.wait_for_url(f"**{LOG}/{sent.event_id}")
    assert json.loads(tab.page.inner_text("[data-test=body]"))["id"] == sent.public_id
    first = tab.page.inner_text("tr[data-attempt='1']")
    assert "HTTP 500" in first
    assert DOWN in first
    tab.check("backoffice-webhook-event")
    tab.page.click("[data-test=replay] button")
    tab.page.wait_for_url(f"**{LOG}/{sent.event_id}?replayed=1")
    assert tab.page.inner_text("[data-test=replayed]") == "Replay queued. New deliveries: 1"


def test_an_admin_replays_a_failed_delivery_and_the_receiver_gets_the_same_event_signed(
    new_tab: Callable[..., Tab],
    committed: sessionmaker[Session],
    receiver: Receiver,  # noqa: F811 - the fixture imported above
    http: httpx.Client,  # noqa: F811 - the fixture imported above
) -> None:
    sent = _a_delivery_that_failed(committed, receiver, http)
    attempts = len(receiver.requests)
    original = receiver.requests[0]
    secrets = _staff(committed)

    support = new_tab("en-US")
    _opens_the_log(support, "dana", secrets["dana"])
    before = _queued(committed)
    _support_reads_but_may_not_replay(support, sent)
    assert _queued(committed) == before
    assert _states(committed, sent.event_id) == [WebhookDeliveryState.failed]
    assert run_due(committed, http) == 0
    assert len(receiver.requests) == attempts

    admin = new_tab("en-US")
    _opens_the_log(admin, "aliya", secrets["aliya"])
    _admin_replays_from_the_event_page(admin, sent)
    assert _states(committed, sent.event_id) == [
        WebhookDeliveryState.failed,
        WebhookDeliveryState.pending,
    ]
    assert run_due(committed, http) == 1

    again = receiver.requests[-1]
    assert len(receiver.requests) == attempts + 1
    assert again.body == original.body
    assert json.loads(again.body)["id"] == sent.public_id
    assert again.headers["tulpar-event-id"] == sent.public_id
    event = signing.verify_event(
        sent.secret, again.headers["tulpar-signature"], again.body, now=time.time()
    )
    assert event["id"] == sent.public_id
    assert _states(committed, sent.event_id) == [
        WebhookDeliveryState.failed,
        WebhookDeliveryState.delivered,
    ]
    admin.page.reload()
    assert admin.page.locator("[data-delivery]").count() == 2
    assert "replayed by staff:aliya" in admin.page.inner_text("main")
