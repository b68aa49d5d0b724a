"""A Chinese traveller renews on the pages alone, with no script: card number → code read
from the outbox → my card → plans with quotes → summary → sandbox pay → the status page
reaches done → receipt (HTML, PDF) → the verification page confirms it. Through HTTP, a
real worker and the carrier simulator."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import CALLBACK_SECRET, count, run_jobs_until
from tests.web_pages.conftest import hidden_fields
from tulpar.app import create_app
from tulpar.carrier_sim.server import app_in_thread, simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.kit.format import local_time
from tulpar.models import Card, Channel, Notification, Receipt


def _post_form(client: httpx.Client, page: httpx.Response, action: str, **fields: str):
    return client.post(action, data={**hidden_fields(page.text, action), **fields})


def test_a_chinese_traveller_renews_on_the_pages_without_scripts(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    with committed() as session:
        plan = create_plan(session, code="WEB-15D", validity_days=15, channels=(Channel.web,))
        create_plan(session, code="STORE-ONLY", channels=(Channel.store,))
        card, _ = create_active_card(session, plan=plan, language="zh-Hans", msisdn="+77017770002")
        session.commit()
        card_id, validity_before = card.id, card.validity_ends_at
    assert validity_before is not None

    with app_in_thread(create_app()) as base:
        simulator_settings = SimulatorSettings(
            callback_url=f"{base}/carrier/callbacks",
            callback_secret=CALLBACK_SECRET,
            completion_delay_ms=50,
        )
        with (
            simulator_in_thread(simulator_settings) as simulator,
            httpx.Client(base_url=base, timeout=10) as client,
        ):
            configure(
                public_base_url=base,
                carrier_url=simulator.url,
                carrier_callback_secret=CALLBACK_SECRET,
            )
            start = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
            assert start.status_code == 200
            assert "查询并续费您的 eSIM" in start.text

            asked = _post_form(client, start, "/code", card="8 701 777-0002")
            assert (asked.status_code, asked.headers["location"]) == (303, "/code")
            run_jobs_until(committed, lambda s: count(s, Notification, state="delivered") == 1)
            outbox = client.get("/dev/outbox").text
            match = re.search(r"验证码：(\d{6})", outbox)
            assert match is not None, outbox

            code_page = client.get("/code")
            assert "输入验证码" in code_page.text
            verified = _post_form(client, code_page, "/code/verify", code=match.group(1))
            assert (verified.status_code, verified.headers["location"]) == (303, "/card")

            card_page = client.get("/card")
            assert "我的卡" in card_page.text
            assert local_time(validity_before) in card_page.text

            plans = client.get("/plans")
            assert 'data-plan="WEB-15D"' in plans.text
            assert "STORE-ONLY" not in plans.text
            assert "新的有效期至" in plans.text

            summary = client.get("/plans/WEB-15D")
            assert "支付 3,500 KZT" in summary.text
            placed = _post_form(client, summary, "/orders")
            assert placed.status_code == 303
            pay_url = placed.headers["location"]
            assert urlsplit(pay_url).path.startswith("/pay/sandbox/")
            again = client.post("/orders", data=hidden_fields(summary.text, "/orders"))
            assert again.headers["location"] == pay_url, "a resent form pays the same order"

            pay_page = client.get(pay_url)
            cancel = re.search(r'href="/orders/(\d+)\?cancelled=1"', pay_page.text)
            assert cancel is not None, pay_page.text
            order_id = int(cancel.group(1))
            paid = client.post(pay_url, data={"decision": "pay"})
            assert paid.status_code == 303
            after = client.get(pay_url)
            assert "已支付 Paid" in after.text
            assert f'href="/orders/{order_id}"' in after.text

            run_jobs_until(
                committed, lambda s: count(s, Receipt, order_id=order_id) == 1, timeout=30
            )
            status = client.get(f"/orders/{order_id}")
            receipt_html = client.get(f"/orders/{order_id}/receipt")
            pdf = client.get(f"/orders/{order_id}/receipt.pdf")
            receipts = client.get("/receipts")
            verify_url = re.search(r'href="(http[^"]+/verify/[^"]+)"', receipt_html.text)
            assert verify_url is not None
            verification = client.get(verify_url.group(1).replace("&amp;", "&"))
            assert simulator.book.applications == {f"order-{order_id}": 1}

    assert 'data-state="completed"' in status.text
    assert "完成！您的套餐已生效。" in status.text
    with committed() as session:
        renewed = session.get(Card, card_id)
        assert renewed is not None
        assert renewed.validity_ends_at is not None
        sms = (
            session.query(Notification.body)
            .filter_by(card_id=card_id, template="renewal_confirmed")
            .scalar()
        )
    assert local_time(renewed.validity_ends_at) in status.text
    assert sms is not None
    assert "有效期至" in sms
    assert "WEB-000001" in receipts.text
    assert "WEB-000001" in receipt_html.text
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'data-genuine="true"' in verification.text
