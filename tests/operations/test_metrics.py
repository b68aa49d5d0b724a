"""``/metrics`` after a real renewal (API, sandbox payment, worker, carrier simulator and its
signed callback): the counters moved by what happened, and only by that. Also who may scrape."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.fixtures.payments import traveller_headers
from tests.provisioning.conftest import CALLBACK_SECRET, count, run_jobs_until
from tulpar.app import create_app
from tulpar.carrier_sim.server import app_in_thread, simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.models import Notification, OrderEvent, Provisioning

_SMS_WAITING = (
    "SELECT count(*) FROM procrastinate_jobs"
    " WHERE task_name = 'notification.send' AND status IN ('todo', 'doing')"
)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: httpx.Client, base: str, **headers: str) -> Samples:
    answer = client.get(f"{base}/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the samples called ``name`` with these labels (and any others) grew."""

    def total(samples: Samples) -> float:
        return sum(
            value
            for (sample, sample_labels), value in samples.items()
            if sample == name and set(labels.items()) <= set(sample_labels)
        )

    return total(after) - total(before)


def test_a_renewal_moves_the_request_job_provisioning_and_sms_counters(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    with committed() as session:
        plan = create_plan(session, code="METRICS-15D", validity_days=15)
        card, _ = create_active_card(session, plan=plan, language="zh-Hans")
        headers = traveller_headers(session, card)
        session.commit()
        card_id, iccid = card.id, card.iccid

    with app_in_thread(create_app()) as base:
        settings = SimulatorSettings(
            callback_url=f"{base}/carrier/callbacks",
            callback_secret=CALLBACK_SECRET,
            completion_delay_ms=50,
        )
        with simulator_in_thread(settings) as simulator, httpx.Client(timeout=10) as client:
            configure(
                public_base_url=base,
                carrier_url=simulator.url,
                carrier_callback_secret=CALLBACK_SECRET,
                sandbox_webhook_delay_seconds=0,
                provisioning_poll_after_seconds=600,
                metrics_token="metrics-token-for-the-test",
            )
            bearer = {"Authorization": "Bearer metrics-token-for-the-test"}
            before = scrape(client, base, **bearer)
            placed = client.post(
                f"{base}/v1/orders",
                headers={
                    **headers,
                    "Idempotency-Key": uuid.uuid4().hex,
                    "X-Request-ID": "renewal-request-0001",
                },
                json={"card": iccid, "plan": "METRICS-15D"},
            )
            assert placed.status_code == 201, placed.text
            assert placed.headers["x-request-id"] == "renewal-request-0001"
            order_id = placed.json()["id"]
            paid = client.post(
                placed.json()["payment"]["next_action"]["url"], data={"decision": "pay"}
            )
            assert paid.status_code == 303
            run_jobs_until(
                committed,
                lambda s: (
                    s.scalars(select(Provisioning.state)).one_or_none() == "completed"
                    and count(s, Notification, card_id=card_id, template="renewal_confirmed") == 1
                    and not s.scalar(text(_SMS_WAITING))
                ),
            )
            after = scrape(client, base, **bearer)

    route = {"route": "/v1/orders", "method": "POST"}
    assert moved(before, after, "tulpar_http_requests_total", **route, status="201") == 1
    assert moved(before, after, "tulpar_http_request_duration_seconds_count", **route) == 1
    assert moved(before, after, "tulpar_provisioning_total", outcome="completed") == 1
    assert moved(before, after, "tulpar_provisioning_total", outcome="failed") == 0
    assert moved(before, after, "tulpar_sms_total", event="sent") >= 1
    assert moved(before, after, "tulpar_sms_total", event="failed") == 0
    assert moved(before, after, "tulpar_refunds_total") == 0
    # (The confirmation SMS is sent by the job that completes the order: tulpar_sms_total.)
    for task in ("payment.deliver_sandbox_webhooks", "inbox.handle"):
        assert moved(before, after, "tulpar_jobs_total", task=task, outcome="succeeded") >= 1, task
    assert moved(before, after, "tulpar_jobs_total", outcome="failed") == 0
    assert ("tulpar_jobs_queue_readable", ()) in after
    assert any(name == "tulpar_db_pool_size" for name, _ in after)

    # Every move the jobs made is stamped with the id of the request that started it.
    with committed() as session:
        events = session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        ).all()
    assert [e.to_state for e in events] == ["awaiting_payment", "paid", "provisioning", "completed"]
    assert all(isinstance(e.details.get("request_id"), str) for e in events[1:])


def test_metrics_want_the_token_when_one_is_set(
    client: TestClient, configure: Callable[..., None]
) -> None:
    configure(metrics_token="the-right-token")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer the-wrong-token"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert "tulpar_" not in wrong.text
    right = client.get("/metrics", headers={"Authorization": "Bearer the-right-token"})
    assert right.status_code == 200
    assert "tulpar_http_requests_total" in right.text


def test_without_a_token_metrics_answer_loopback_only_and_never_in_production(
    client: TestClient, configure: Callable[..., None]
) -> None:
    # The test client calls from "testclient", which is no loopback address.
    assert client.get("/metrics").status_code == 403
    configure(environment="production")
    assert client.get("/metrics").status_code == 403
