"""/backoffice/catalog: an admin creates, edits, reprices, retires and deletes plans through
the pages; each change is audited before and after and shown in the plan's history; a
price change leaves the orders already placed as they were; refusals change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.backoffice_catalog.conftest import (
    FORM,
    catalog_audit,
    plan_count,
    prices_of,
    reloaded,
    signed_in,
)
from tests.fixtures.factories import create_active_card, create_plan
from tulpar.auth import service as auth_service
from tulpar.catalog import service as catalog_service
from tulpar.catalog.definition import PlanDefinition
from tulpar.fulfilment import checkout
from tulpar.kit.format import GB, formatter_for
from tulpar.models import Channel, Order, OrderKind, PaymentProviderName, RenewalPolicy
from tulpar.order.checkout import OrderRequest

NAMES = {"zh-Hans": "测试", "ru": "Тест", "kk": "Тест", "en": "Test"}


def _plan(session: Session, code: str, **window: datetime | None) -> None:
    catalog_service.ensure_plan(
        session,
        PlanDefinition(
            code=code,
            names={**NAMES, "en": f"Plan {code}"},
            validity_days=7,
            data_bytes=GB,
            voice_seconds=None,
            sms_count=0,
            prices_minor={"KZT": 1_990_00},
            **window,  # type: ignore[arg-type]
        ),
    )


def _edit_form(client: TestClient, code: str) -> dict[str, object]:
    """What the edit form holds for ``code``, as a browser would send it back."""
    html = client.get(f"/backoffice/catalog/{code}/edit").text
    assert f'value="{code}" maxlength="32" autocomplete="off" readonly' in html
    return {**FORM, "code": code}


def test_the_list_says_where_each_plan_stands_whether_it_was_sold_and_its_prices(
    client: TestClient, session: Session, now: datetime
) -> None:
    _plan(session, "ON-SALE")
    _plan(session, "LATER", sellable_from=now + timedelta(days=2))
    _plan(session, "OVER", sellable_until=now - timedelta(hours=1))
    _plan(session, "GONE")
    sold = create_plan(session, code="SOLD", prices_minor={"KZT": 3_500_00, "USD": 7_00})
    create_active_card(session, plan=sold)
    csrf = signed_in(client, session)
    client.post("/backoffice/catalog/GONE/retire", data={"confirmed": "yes", "csrf": csrf})

    html: str = client.get("/backoffice/catalog").text

    def row(code: str) -> str:
        start = html.index(f'data-plan="{code}"')
        return html[html.rindex("<li", 0, start) : html.index("</li>", start)]

    assert 'data-status="active" data-sold="no"' in row("ON-SALE")
    assert 'data-status="scheduled" data-sold="no"' in row("LATER")
    assert 'data-status="ended" data-sold="no"' in row("OVER")
    assert 'data-status="retired" data-sold="no"' in row("GONE")
    assert 'data-status="active" data-sold="yes"' in row("SOLD")
    assert ">Scheduled<" in row("LATER")
    assert ">Never sold<" in row("LATER")
    assert ">Sold<" in row("SOLD")
    money = formatter_for("en").money
    assert (
        f'<span class="price-KZT">{money(3_500_00, "KZT")}</span>, '
        f'<span class="price-USD">{money(7_00, "USD")}</span>'
    ) in row("SOLD")


def test_an_admin_creates_a_plan_and_its_page_shows_it_and_its_history(
    client: TestClient, session: Session
) -> None:
    csrf = signed_in(client, session)

    created = client.post(
        "/backoffice/catalog",
        data={**FORM, "code": "kz-15d-10gb", "sellable_from": "2099-01-01T00:00", "csrf": csrf},
        follow_redirects=False,
    )

    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/backoffice/catalog/KZ-15D-10GB?saved=1"
    plan = reloaded(session, "KZ-15D-10GB")
    assert plan is not None
    assert plan.names == {
        "en": "Kazakhstan 15 days",
        "ru": "Казахстан 15 дней",
        "zh-Hans": "哈萨克斯坦15天",
        "kk": "Қазақстан 15 күн",
    }
    assert (plan.validity_days, plan.data_bytes, plan.voice_seconds, plan.sms_count) == (
        15,
        10 * GB,
        3600,
        None,
    )
    assert prices_of(session, plan.id) == {"KZT": 4_500_00, "CNY": 65_50}
    assert (plan.channels, plan.renewal_policy, plan.rollover) == (
        ["web", "store"],
        RenewalPolicy.queue,
        True,
    )
    assert plan.sellable_from is not None
    assert plan.sellable_from.isoformat() == "2098-12-31T19:00:00+00:00"  # 00:00 at UTC+5
    assert plan.sellable_until is None
    (entry,) = catalog_audit(session)
    assert (entry.action, entry.subject, entry.before) == (
        "catalog.plan_create",
        f"plan:{plan.id}",
        None,
    )
    assert entry.after is not None
    assert entry.after["prices"] == {"KZT": 4_500_00, "CNY": 65_50}
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    assert 'data-test="saved"' in page.text
    assert 'data-action="catalog.plan_create"' in page.text
    assert "Kazakhstan 15 days" in page.text
    assert 'data-test="status">Scheduled · Never sold<' in page.text


def test_an_edit_is_audited_with_only_what_changed_before_and_after(
    client: TestClient, session: Session
) -> None:
    plan = create_plan(session, code="KZ-7D", validity_days=7, data_bytes=5 * GB)
    prices = prices_of(session, plan.id)
    csrf = signed_in(client, session)
    form = {
        **_edit_form(client, "KZ-7D"),
        "name_en": "Kazakhstan week",
        "name_ru": "Тест",
        "name_zh_hans": "测试",
        "name_kk": "Тест",
        "validity_days": "7",
        "data_mb": str(6 * 1024),
        "voice_minutes": "60",
        "sms_count": "50",
        "sms_unlimited": "",
        "price_kzt": "3500",
        "price_cny": "52",
        "price_usd": "7",
        "channels": [channel.value for channel in Channel],
        "renewal_policy": "extend",
        "rollover": "",
    }

    edited = client.post(
        "/backoffice/catalog/KZ-7D", data={**form, "csrf": csrf}, follow_redirects=False
    )

    assert edited.status_code == 303, edited.text
    changed = reloaded(session, "KZ-7D")
    assert changed is not None
    assert (changed.names["en"], changed.data_bytes) == ("Kazakhstan week", 6 * GB)
    assert prices_of(session, plan.id) == prices
    (entry,) = catalog_audit(session)
    assert entry.action == "catalog.plan_edit"
    assert entry.before == {"code": "KZ-7D", "names": NAMES, "data_bytes": 5 * GB}
    assert entry.after == {
        "code": "KZ-7D",
        "names": {**NAMES, "en": "Kazakhstan week"},
        "data_bytes": 6 * GB,
    }
    history = client.get("/backoffice/catalog/KZ-7D").text
    assert 'data-action="catalog.plan_edit"' in history
    assert '<span class="before">5 GB</span> → <span class="after">6 GB</span>' in history


def test_a_reprice_leaves_the_order_already_placed_at_its_price(
    client: TestClient, session: Session
) -> None:
    plan = create_plan(session, code="WEB-15D", prices_minor={"KZT": 3_500_00, "CNY": 52_00})
    card, _ = create_active_card(session, plan=create_plan(session))
    placed = checkout.place(
        session,
        auth_service.traveller(card.id),
        OrderRequest(
            card=card.iccid,
            kind=OrderKind.plan_renewal,
            plan="WEB-15D",
            amount_minor=None,
            currency="KZT",
            payment_provider=PaymentProviderName.sandbox,
            promo_code=None,
        ),
    )
    order_id = placed.order.id
    assert (placed.order.amount_minor, placed.order.currency) == (3_500_00, "KZT")
    csrf = signed_in(client, session)
    form = _edit_form(client, "WEB-15D")
    current = {
        "name_en": "Test", "name_ru": "Тест", "name_zh_hans": "测试", "name_kk": "Тест",
        "validity_days": "7", "data_mb": str(5 * 1024), "voice_minutes": "60",
        "sms_count": "50", "sms_unlimited": "", "price_cny": "52", "price_usd": "",
        "channels": [channel.value for channel in Channel], "renewal_policy": "extend",
        "rollover": "",
    }  # fmt: skip

    repriced = client.post(
        "/backoffice/catalog/WEB-15D",
        data={**form, **current, "price_kzt": "3900", "csrf": csrf},
        follow_redirects=False,
    )

    assert repriced.status_code == 303, repriced.text
    assert prices_of(session, plan.id) == {"KZT": 3_900_00, "CNY": 52_00}
    (entry,) = catalog_audit(session)
    assert (entry.action, entry.before, entry.after) == (
        "catalog.plan_price_change",
        {"code": "WEB-15D", "prices": {"CNY": 52_00, "KZT": 3_500_00}},
        {"code": "WEB-15D", "prices": {"CNY": 52_00, "KZT": 3_900_00}},
    )
    session.expire_all()
    order = session.get_one(Order, order_id)
    assert (order.amount_minor, order.currency) == (3_500_00, "KZT")
    history = client.get("/backoffice/catalog/WEB-15D").text
    assert 'data-action="catalog.plan_price_change"' in history
    assert "Repriced" in history


def test_retiring_a_sold_plan_keeps_it_and_it_can_no_longer_be_edited(
    client: TestClient, session: Session, now: datetime
) -> None:
    plan = create_plan(session, code="KZ-7D")
    create_active_card(session, plan=plan)
    csrf = signed_in(client, session)

    retired = client.post(
        "/backoffice/catalog/KZ-7D/retire",
        data={"reason": "replaced by KZ-7D-2", "confirmed": "yes", "csrf": csrf},
        follow_redirects=False,
    )

    assert retired.status_code == 303
    assert "KZ-7D" not in [p.code for p in catalog_service.sellable_plans(session)]
    (entry,) = catalog_audit(session)
    assert (entry.action, entry.reason) == ("catalog.plan_retire", "replaced by KZ-7D-2")
    page = client.get("/backoffice/catalog/KZ-7D").text
    assert "replaced by KZ-7D-2" in page
    assert 'data-test="retire"' not in page
    assert f'<span class="after">{formatter_for("en").local_time(now)}</span>' in page
    assert 'data-test="edit"' not in page

    again = client.post("/backoffice/catalog/KZ-7D/retire", data={"confirmed": "yes", "csrf": csrf})
    edit = client.post(
        "/backoffice/catalog/KZ-7D", data={**FORM, "code": "KZ-7D", "price_kzt": "1", "csrf": csrf}
    )

    assert (again.status_code, edit.status_code) == (409, 409)
    assert "This plan is retired: it stays as it was sold" in again.text
    assert "This plan is retired: it stays as it was sold" in edit.text
    assert prices_of(session, plan.id) == {"KZT": 3_500_00, "CNY": 52_00, "USD": 7_00}
    assert len(catalog_audit(session)) == 1


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This plan has been sold: it can be retired, never deleted"),
        ("ru", "Этот тариф уже продавался: его можно снять с продажи, но нельзя удалить"),
        ("zh-Hans", "此套餐已售出：只能下架，不能删除"),
        ("kk", "Бұл тариф сатылған: оны сатылымнан алуға болады, бірақ жоюға болмайды"),
    ],
)
def test_deleting_a_sold_plan_is_refused_in_the_admins_language_and_nothing_changes(
    client: TestClient, session: Session, language: str, message: str
) -> None:
    plan = create_plan(session, code="KZ-7D")
    create_active_card(session, plan=plan)
    csrf = signed_in(client, session, language=language)
    page = client.get("/backoffice/catalog/KZ-7D").text
    assert 'data-test="delete"' not in page  # the page offers no delete for it

    refused = client.post(
        "/backoffice/catalog/KZ-7D/delete", data={"confirmed": "yes", "csrf": csrf}
    )

    assert refused.status_code == 409
    assert message in refused.text
    assert reloaded(session, "KZ-7D") is not None
    assert prices_of(session, plan.id) == {"KZT": 3_500_00, "CNY": 52_00, "USD": 7_00}
    assert catalog_audit(session) == []


def test_a_plan_never_sold_is_deleted_and_the_deletion_audited(
    client: TestClient, session: Session
) -> None:
    plan = create_plan(session, code="DRAFT")
    plan_id = plan.id
    csrf = signed_in(client, session)
    assert 'data-test="delete"' in client.get("/backoffice/catalog/DRAFT").text

    deleted = client.post(
        "/backoffice/catalog/DRAFT/delete",
        data={"confirmed": "yes", "csrf": csrf},
        follow_redirects=False,
    )

    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/backoffice/catalog?deleted=DRAFT"
    assert reloaded(session, "DRAFT") is None
    (entry,) = catalog_audit(session)
    assert (entry.action, entry.subject) == ("catalog.plan_delete", f"plan:{plan_id}")
    assert "Plan DRAFT was deleted." in client.get(deleted.headers["location"]).text
    assert plan_count(session) == 0
