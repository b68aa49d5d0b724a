"""The console on the staff layout and catalogues: the staff header and sign-out on every
page, the texts in the staff user's language, and a refusal as the staff error page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support_console.conftest import COOKIE, Scene, signed_in


def _sign_in(client: TestClient, session: Session, language: str) -> None:
    staff = signed_in(session, "support")
    staff.user.language = language
    session.flush()
    client.cookies.set(COOKIE, staff.token)


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ("Tickets", "Credit or debit the wallet", "Sign out", "Tulpar staff")),
        ("ru", ("Обращения", "Пополнить или списать с кошелька", "Выйти", 'lang="ru"')),
        ("zh-Hans", ("工单", "向钱包充值或扣款", 'lang="zh-Hans"')),
        ("kk", ("Өтініштер", "Әмиянды толтыру немесе одан шегеру", 'lang="kk"')),
    ],
)
def test_a_page_in_the_staff_users_language_on_the_staff_layout(
    client: TestClient, session: Session, failed_order: Scene, language: str, texts: tuple[str]
) -> None:
    _sign_in(client, session, language)
    page = client.get(f"/support/cards/{failed_order.card.id}")
    assert page.status_code == 200
    for text in texts:
        assert text in page.text
    assert 'action="/staff/sign-out"' in page.text  # the staff base's footer
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_refusal_is_the_staff_error_page(client: TestClient, session: Session) -> None:
    _sign_in(client, session, "ru")
    missing = client.get("/support/orders/999999999")
    assert missing.status_code == 404
    assert 'lang="ru"' in missing.text
    assert 'href="/staff/"' in missing.text  # the staff error page's way back
    assert client.get("/support/orders/not-a-number").status_code == 404


def test_the_pages_are_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/staff", "/store", "/support"))]
