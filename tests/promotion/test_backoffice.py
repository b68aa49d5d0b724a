"""/backoffice/promotions: an admin lists, creates, edits, deactivates and reactivates
promotions, each change audited with the values before and after; bad input gets the form
back with why in the admin's language; other roles may not."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.counter.conftest import make_staff, make_store, sign_in_token
from tests.promotion.conftest import NAMES, create_promotion
from tulpar.kit.format import MB
from tulpar.models import AuditEntry, DiscountKind, Promotion
from tulpar.web.staff.session import COOKIE

FORM = {
    "name_zh_hans": NAMES["zh-Hans"],
    "name_ru": NAMES["ru"],
    "name_kk": NAMES["kk"],
    "name_en": NAMES["en"],
    "automatic": "on",
    "early_renewal_days": "3",
    "effect_kind": "none",
    "bonus_data_mb": "1024",
    "total_limit": "100",
    "starts_at": "2026-12-01T00:00",
}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def _admin(client: TestClient, session: Session, *, language: str = "en") -> str:
    admin = make_staff(session, "admin", None, language=language)
    client.cookies.set(COOKIE, sign_in_token(session, admin))
    return _csrf(client.get("/backoffice/promotions").text)


def _audit(session: Session) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action.like("promotion.%"))
    return list(session.scalars(query.order_by(AuditEntry.id)))


def test_an_admin_creates_an_early_renewal_promotion_with_bonus_data(
    client: TestClient, session: Session
) -> None:
    csrf = _admin(client, session)

    created = client.post(
        "/backoffice/promotions", data={**FORM, "csrf": csrf}, follow_redirects=False
    )

    assert created.status_code == 303, created.text
    promotion = session.scalars(select(Promotion)).one()
    assert (promotion.automatic, promotion.code, promotion.early_renewal_days) == (True, None, 3)
    assert (promotion.effect_kind, promotion.bonus_data_bytes) == (DiscountKind.none, 1024 * MB)
    assert promotion.starts_at is not None
    assert promotion.starts_at.isoformat() == "2026-11-30T19:00:00+00:00"  # 00:00 UTC+5
    (entry,) = _audit(session)
    assert (entry.action, entry.subject, entry.before) == (
        "promotion.create",
        f"promotion:{promotion.id}",
        None,
    )
    assert entry.after is not None
    assert entry.after["bonus_data_bytes"] == 1024 * MB
    listing = client.get("/backoffice/promotions").text
    assert "Early bird" in listing
    assert "+1 GB" in listing
    assert "0 / 100" in listing


def test_editing_and_deactivating_are_audited_before_and_after(
    client: TestClient, session: Session
) -> None:
    promotion = create_promotion(session, code="SPRING", effect_value=10)
    csrf = _admin(client, session)
    form = client.get(f"/backoffice/promotions/{promotion.id}").text
    assert 'value="SPRING"' in form

    edited = client.post(
        f"/backoffice/promotions/{promotion.id}",
        data={
            **FORM,
            "automatic": "",
            "code": "spring",
            "effect_kind": "percent",
            "effect_value": "15",
            "csrf": csrf,
        },
        follow_redirects=False,
    )
    deactivated = client.post(
        f"/backoffice/promotions/{promotion.id}/active",
        data={"active": "0", "csrf": csrf},
        follow_redirects=False,
    )

    assert (edited.status_code, deactivated.status_code) == (303, 303)
    session.refresh(promotion)
    assert (promotion.effect_value, promotion.bonus_data_bytes, promotion.active) == (
        15,
        1024 * MB,
        False,
    )
    update, deactivate = _audit(session)
    assert update.action == "promotion.update"
    assert update.before is not None
    assert update.after is not None
    assert (update.before["effect_value"], update.after["effect_value"]) == (10, 15)
    assert (deactivate.action, deactivate.before, deactivate.after) == (
        "promotion.deactivate",
        {**update.after, "active": True},
        {**update.after, "active": False},
    )


def test_bad_input_gets_the_form_back_saying_why_and_nothing_changes(
    client: TestClient, session: Session
) -> None:
    create_promotion(session, code="TAKEN")
    csrf = _admin(client, session, language="ru")
    before = int(session.scalar(select(func.count()).select_from(Promotion)) or 0)

    cases = [
        ({"effect_kind": "percent", "effect_value": "150"}, "Процент — от 1 до 100"),
        ({"automatic": "", "code": "taken"}, "Этот код уже у другой акции"),
        ({"name_kk": ""}, "Нужно название на каждом языке"),
        ({"total_limit": "ten"}, "Укажите целое число"),
        ({"effect_kind": "none", "bonus_data_mb": ""}, "Акция даёт скидку"),
        ({"ends_at": "2026-11-01T00:00"}, "Конец должен быть позже начала"),
    ]
    for change, message in cases:
        answer = client.post("/backoffice/promotions", data={**FORM, **change, "csrf": csrf})
        assert answer.status_code == 422, change
        assert message in answer.text, change

    assert int(session.scalar(select(func.count()).select_from(Promotion)) or 0) == before
    assert _audit(session) == []


def test_only_an_admin_may_see_or_change_promotions(client: TestClient, session: Session) -> None:
    store = make_store(session)
    clerk = make_staff(session, "clerk", store)
    client.cookies.set(COOKIE, sign_in_token(session, clerk))

    assert client.get("/backoffice/promotions").status_code == 403
    refused = client.post("/backoffice/promotions", data={**FORM, "csrf": "x"})
    assert refused.status_code == 403
    assert int(session.scalar(select(func.count()).select_from(Promotion)) or 0) == 0
