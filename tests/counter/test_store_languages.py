"""The store console's own texts come from its catalogues, in the clerk's language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.counter.conftest import make_staff, make_store, sign_in_token
from tulpar.web.staff.session import COOKIE


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ("Find a card", "ICCID or phone number", "Day close", "Sign out")),
        ("ru", ("Найти карту", "ICCID или номер телефона", "Закрытие дня", "Выйти")),
        ("zh-Hans", ("查找卡", "日结")),
        ("kk", ("Картаны табу", "Күнді жабу")),
    ],
)
def test_the_find_page_in_the_clerks_language(
    client: TestClient, session: Session, language: str, texts: tuple[str]
) -> None:
    clerk = make_staff(session, "clerk", make_store(session), language=language)
    client.cookies.set(COOKIE, sign_in_token(session, clerk))
    page = client.get("/store")
    assert page.status_code == 200
    assert f'lang="{language}"' in page.text
    for text in texts:
        assert text in page.text
