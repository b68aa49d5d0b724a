"""The pages speak the traveller's language: an explicit switch (remembered), else the
browser's Accept-Language, else Simplified Chinese; plan names follow it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.web_pages.conftest import sign_in
from tulpar.models import Channel

HEADINGS = {
    "zh-Hans": "查询并续费您的 eSIM",
    "ru": "Проверить и продлить eSIM",
    "kk": "eSIM тексеру және ұзарту",
    "en": "Check and renew your eSIM",
}
CARD_HEADINGS = {"zh-Hans": "我的卡", "ru": "Моя карта", "kk": "Менің картам", "en": "My card"}


def test_simplified_chinese_for_a_browser_that_says_nothing(pages: TestClient) -> None:
    answer = pages.get("/", headers={"Accept-Language": ""})

    assert '<html lang="zh-Hans">' in answer.text
    assert HEADINGS["zh-Hans"] in answer.text


@pytest.mark.parametrize(
    ("accept", "language"),
    [("ru-RU,ru;q=0.9", "ru"), ("kk-KZ", "kk"), ("en-US,en;q=0.8", "en"), ("zh-TW", "zh-Hans")],
)
def test_the_browsers_language_is_followed(pages: TestClient, accept: str, language: str) -> None:
    answer = pages.get("/", headers={"Accept-Language": accept})

    assert f'<html lang="{language}">' in answer.text
    assert HEADINGS[language] in answer.text


def test_the_switch_is_remembered_over_the_browsers_language(pages: TestClient) -> None:
    switched = pages.get("/?lang=kk", headers={"Accept-Language": "ru"})
    later = pages.get("/", headers={"Accept-Language": "ru"})

    assert "tulpar_lang=kk" in switched.headers["set-cookie"]
    assert HEADINGS["kk"] in later.text
    assert '<a href="/?lang=kk" hreflang="kk" lang="kk" aria-current="true">' in later.text


@pytest.mark.parametrize("language", sorted(HEADINGS))
def test_my_card_and_plan_names_in_each_language(
    pages: TestClient, session: Session, language: str
) -> None:
    plan = create_plan(session, code="LANG-7D", channels=(Channel.web,))
    plan.names = {"zh-Hans": "七天套餐", "ru": "Неделя", "kk": "Апта", "en": "One week"}
    card, _ = create_active_card(session, plan=plan, language="zh-Hans")
    sign_in(pages, session, card)

    card_page = pages.get(f"/card?lang={language}")
    plans = pages.get("/plans")

    assert CARD_HEADINGS[language] in card_page.text
    assert plan.names[language] in plans.text
    others = [name for other, name in plan.names.items() if other != language]
    assert not any(name in plans.text for name in others)
