"""/backoffice/catalog asks before Retire and Delete: the plan page's buttons lead to a
confirm page in the admin's language, whose form carries the session's CSRF token and a
Confirm; a POST without that Confirm shows the page again and changes nothing, the
confirmed one acts; a plan the action would be refused for gets the refusal instead."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.backoffice_catalog.conftest import catalog_audit, plan_count, reloaded, signed_in
from tests.fixtures import catalogues
from tests.fixtures.factories import create_active_card, create_plan
from tulpar.kit.languages import LANGUAGES
from tulpar.web.backoffice.catalog.pages import TEMPLATES

_FORM = re.compile(
    r'<form method="post" action="([^"]+)" data-test="confirm-form">\s*'
    r'<input type="hidden" name="csrf" value="([^"]+)">'
)
_CONFIRM = '<button type="submit" name="confirmed" value="yes" data-test="confirm">'

QUESTIONS = {
    "en": (
        "Retire plan KZ-7D?",
        "Travellers can no longer buy it; existing bundles are unaffected.",
        "Delete plan KZ-7D?",
        "This cannot be undone.",
        "Confirm",
        "Cancel",
    ),
    "ru": (
        "Снять тариф KZ-7D с продажи?",
        "Путешественники больше не смогут его купить; уже подключённые пакеты не затронуты.",
        "Удалить тариф KZ-7D?",
        "Это действие нельзя отменить.",
        "Подтвердить",
        "Отмена",
    ),
    "zh-Hans": (
        "下架套餐 KZ-7D？",
        "旅客将无法再购买此套餐；已购买的套餐不受影响。",
        "删除套餐 KZ-7D？",
        "此操作无法撤销。",
        "确认",
        "取消",
    ),
    "kk": (
        "KZ-7D тарифін сатылымнан алу керек пе?",
        "Саяхатшылар оны енді сатып ала алмайды; қосылған пакеттерге әсер етпейді.",
        "KZ-7D тарифін жою керек пе?",
        "Бұл әрекетті қайтару мүмкін емес.",
        "Растау",
        "Болдырмау",
    ),
}


def _text(page: str, test: str) -> str:
    found = re.search(rf'data-test="{test}">([^<]*)<', page)
    assert found is not None, test
    return html.unescape(found.group(1))


@pytest.mark.parametrize("language", sorted(QUESTIONS))
def test_the_confirm_pages_ask_in_the_admins_language_with_the_sessions_token(
    client: TestClient, session: Session, language: str
) -> None:
    create_plan(session, code="KZ-7D")
    csrf = signed_in(client, session, language=language)
    retire_q, retire_why, delete_q, delete_why, confirm, cancel = QUESTIONS[language]
    plan_page = client.get("/backoffice/catalog/KZ-7D").text
    assert 'href="/backoffice/catalog/KZ-7D/retire" data-test="retire"' in plan_page
    assert 'href="/backoffice/catalog/KZ-7D/delete" data-test="delete"' in plan_page

    retire = client.get("/backoffice/catalog/KZ-7D/retire")
    delete = client.get("/backoffice/catalog/KZ-7D/delete")

    assert (retire.status_code, delete.status_code) == (200, 200)
    for page, action, question, why in (
        (retire.text, "retire", retire_q, retire_why),
        (delete.text, "delete", delete_q, delete_why),
    ):
        assert (_text(page, "question"), _text(page, "consequence")) == (question, why)
        assert _text(page, "confirm") == confirm
        assert _text(page, "cancel") == cancel
        form = _FORM.search(page)
        assert form is not None, page
        assert form.groups() == (f"/backoffice/catalog/KZ-7D/{action}", csrf)
        assert _CONFIRM in page
        assert 'href="/backoffice/catalog/KZ-7D" data-test="cancel"' in page
    assert 'id="reason" name="reason"' in retire.text
    assert 'name="reason"' not in delete.text
    assert reloaded(session, "KZ-7D") is not None
    assert catalog_audit(session) == []


@pytest.mark.parametrize("action", ["retire", "delete"])
def test_a_post_without_the_confirm_shows_the_question_and_changes_nothing(
    client: TestClient, session: Session, action: str
) -> None:
    create_plan(session, code="KZ-7D")
    csrf = signed_in(client, session)

    answers = [
        client.post(f"/backoffice/catalog/KZ-7D/{action}", data=data, follow_redirects=False)
        for data in (
            {"csrf": csrf, "reason": "typed, not confirmed"},
            {"csrf": csrf, "confirmed": "no"},
            {"csrf": csrf, "confirmed": ""},
        )
    ]

    assert [answer.status_code for answer in answers] == [200] * 3
    for answer in answers:
        assert _CONFIRM in answer.text
    if action == "retire":  # what was typed is kept for the Confirm
        assert 'name="reason" maxlength="500" value="typed, not confirmed"' in answers[0].text
    kept = reloaded(session, "KZ-7D")
    assert kept is not None
    assert (kept.retired_at, kept.sellable_until) == (None, None)
    assert plan_count(session) == 1
    assert catalog_audit(session) == []


def test_the_confirmed_retire_posts_the_confirm_pages_form_and_acts(
    client: TestClient, session: Session
) -> None:
    create_plan(session, code="KZ-7D")
    signed_in(client, session, language="ru")
    form = _FORM.search(client.get("/backoffice/catalog/KZ-7D/retire").text)
    assert form is not None
    action, csrf = form.groups()

    retired = client.post(
        action,
        data={"csrf": csrf, "reason": "замена", "confirmed": "yes"},
        follow_redirects=False,
    )

    assert retired.status_code == 303
    assert retired.headers["location"] == "/backoffice/catalog/KZ-7D?saved=1"
    plan = reloaded(session, "KZ-7D")
    assert plan is not None
    assert plan.retired_at is not None
    [entry] = catalog_audit(session)
    assert (entry.action, entry.reason) == ("catalog.plan_retire", "замена")


def test_the_confirmed_delete_posts_the_confirm_pages_form_and_acts(
    client: TestClient, session: Session
) -> None:
    create_plan(session, code="KZ-7D")
    signed_in(client, session, language="zh-Hans")
    form = _FORM.search(client.get("/backoffice/catalog/KZ-7D/delete").text)
    assert form is not None
    action, csrf = form.groups()

    deleted = client.post(action, data={"csrf": csrf, "confirmed": "yes"}, follow_redirects=False)

    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/backoffice/catalog?deleted=KZ-7D"
    assert reloaded(session, "KZ-7D") is None
    assert [entry.action for entry in catalog_audit(session)] == ["catalog.plan_delete"]


def test_a_plan_the_action_would_be_refused_for_is_not_asked_about(
    client: TestClient, session: Session
) -> None:
    sold = create_plan(session, code="SOLD")
    create_active_card(session, plan=sold)
    create_plan(session, code="GONE")
    csrf = signed_in(client, session)
    client.post("/backoffice/catalog/GONE/retire", data={"confirmed": "yes", "csrf": csrf})
    audited = len(catalog_audit(session))

    answers = {
        "delete sold": client.get("/backoffice/catalog/SOLD/delete"),
        "delete sold, unconfirmed": client.post(
            "/backoffice/catalog/SOLD/delete", data={"csrf": csrf}
        ),
        "retire retired": client.get("/backoffice/catalog/GONE/retire"),
    }

    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == dict.fromkeys(answers, 409)
    for answer in answers.values():
        assert _CONFIRM not in answer.text
        assert 'data-test="refusal"' in answer.text
    assert "it can be retired, never deleted" in answers["delete sold"].text
    assert "This plan is retired" in answers["retire retired"].text
    assert reloaded(session, "SOLD") is not None
    assert len(catalog_audit(session)) == audited


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_the_catalog_pages_use_is_translated(language: str) -> None:
    catalogue = catalogues.catalogue(TEMPLATES.parent / "locales", language)
    used = catalogues.template_messages(TEMPLATES)

    assert sorted(message for message in used if not catalogue.get(message)) == []
    assert catalogues.literal_words(TEMPLATES / "plan_confirm.html") == []
