"""``/stores``: the public list of authorised stores, by city, in the traveller's language;
linked from every traveller page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card
from tests.web_pages.conftest import sign_in
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Store

HEADINGS = {
    "zh-Hans": "授权门店",
    "ru": "Официальные магазины",
    "kk": "Ресми дүкендер",
    "en": "Authorised stores",
}
MAP_LABEL = {
    "zh-Hans": "在地图上查看 Tulpar Dostyk",
    "ru": "Показать «Tulpar Dostyk» на карте",
    "kk": "«Tulpar Dostyk» картада көрсету",
    "en": "Show Tulpar Dostyk on the map",
}


def _store(session: Session, code: str, name: str, city: str, *, active: bool = True) -> Store:
    store = Store(
        code=code,
        name=name,
        city=city,
        address=f"{name} street 1",
        opening_hours="Mon–Sun 10:00–22:00",
        legal_name=f"{name} LLP",
        bin="123456789012",
        active=active,
    )
    session.add(store)
    session.flush()
    return store


@pytest.fixture
def stores(session: Session) -> None:
    _store(session, "ALA-02", "Tulpar Dostyk", "Almaty")
    _store(session, "AST-01", "Tulpar Baiterek", "Astana")
    _store(session, "ALA-01", "Tulpar Airport", "Almaty")
    _store(session, "ALA-03", "Tulpar Closed", "Almaty", active=False)
    _store(session, "SHY-01", "Tulpar Gone", "Shymkent", active=False)
    session.commit()


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.usefixtures("stores")
class TestTheList:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_each_language_shows_the_active_stores_by_city(
        self, pages: TestClient, language: str
    ) -> None:
        answer = pages.get(f"/stores?lang={language}")
        html = answer.text

        assert answer.status_code == 200
        assert f'<html lang="{language}">' in html
        assert f"<h1>{HEADINGS[language]}</h1>" in html
        cities = re.findall(r'<h2 id="city-\d+">([^<]+)</h2>', html)
        assert cities == ["Almaty", "Astana"]
        names = re.findall(r"<h3 class=\"store\">([^<]+)</h3>", html)
        assert names == ["Tulpar Airport", "Tulpar Dostyk", "Tulpar Baiterek"]
        assert "Tulpar Closed" not in html
        assert "Shymkent" not in html
        assert MAP_LABEL[language] in unescape(html)
        assert "Mon–Sun 10:00–22:00" in html

    def test_the_language_follows_the_browser_then_defaults_to_chinese(
        self, pages: TestClient
    ) -> None:
        russian = pages.get("/stores", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
        default = pages.get("/stores", headers={"Accept-Language": "de"})

        assert f"<h1>{HEADINGS['ru']}</h1>" in russian.text
        assert f"<h1>{HEADINGS['zh-Hans']}</h1>" in default.text

    def test_each_map_link_is_a_plain_search_for_the_address(self, pages: TestClient) -> None:
        html = pages.get("/stores?lang=en").text

        links = [unescape(href) for href in re.findall(r'<a href="(https://[^"]+)"', html)]
        assert len(links) == 3
        first = urlsplit(links[0])
        assert (first.scheme, first.netloc, first.path) == (
            "https",
            "www.openstreetmap.org",
            "/search",
        )
        assert parse_qs(first.query) == {"query": ["Tulpar Airport street 1, Almaty"]}
        # Nothing on the page loads from another host (no embedded map, no script).
        assert not re.search(r'<(script|img|iframe|link)[^>]+(src|href)="https?://', html)


def test_an_empty_list_says_so(pages: TestClient) -> None:
    html = pages.get("/stores?lang=en").text

    assert "No stores are listed at the moment." in html
    assert "<h2" not in html


def test_every_traveller_page_links_to_the_list_signed_in_or_not(
    pages: TestClient, session: Session
) -> None:
    signed_out = pages.get("/?lang=ru").text
    missing = pages.get("/orders/not-a-number?lang=kk")  # the error page
    card = create_card(session)
    sign_in(pages, session, card)
    signed_in = pages.get("/help?lang=en").text

    for html in (signed_out, missing.text, signed_in):
        assert '<a href="/stores">' in html
    assert "Официальные магазины" in _text(signed_out)
    assert missing.status_code == 404
