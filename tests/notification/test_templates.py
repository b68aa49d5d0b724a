from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tulpar.kit.languages import LANGUAGES
from tulpar.notification.templates import TEMPLATES, render

VALIDITY_END = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
CONFIRMED = {
    "plan": {"zh-Hans": "15天 10GB", "ru": "15 дней 10 ГБ", "kk": "15 күн 10 ГБ", "en": "15 days"},
    "validity_ends_at": VALIDITY_END,
    "data_bytes": 10 * 1024**3 - 512 * 1024**2,
    "voice_seconds": 3_599,
    "sms_count": 50,
    "wallet_minor": 1_250_00,
    "wallet_currency": "KZT",
}


def test_renewal_confirmed_in_chinese_shows_local_validity_and_balances() -> None:
    assert render("renewal_confirmed", CONFIRMED, language="zh-Hans") == (
        "【Tulpar】15天 10GB已生效，有效期至2026-12-01 11:00 (UTC+5)。"
        "剩余：流量9.5 GB，通话59分钟，短信50。钱包余额1,250 KZT。"
    )


def test_renewal_confirmed_in_english() -> None:
    assert render("renewal_confirmed", CONFIRMED, language="en") == (
        "Tulpar: 15 days active until 2026-12-01 11:00 (UTC+5). Left: data 9.5 GB,"
        " calls 59 min, SMS 50. Wallet 1,250 KZT."
    )


def test_renewal_confirmed_in_russian_uses_russian_numbers() -> None:
    assert render("renewal_confirmed", CONFIRMED, language="ru") == (
        "Tulpar: 15 дней 10 ГБ действует до 2026-12-01 11:00 (UTC+5). Осталось: интернет"
        " 9,5 GB, звонки 59 мин, SMS 50. Кошелёк 1\xa0250 KZT."
    )


def test_unlimited_allowances_are_spelled_out() -> None:
    context = {**CONFIRMED, "data_bytes": None, "voice_seconds": None}
    assert render("renewal_confirmed", context, language="ru") == (
        "Tulpar: 15 дней 10 ГБ действует до 2026-12-01 11:00 (UTC+5). Осталось: интернет"
        " безлимит, звонки безлимит, SMS 50. Кошелёк 1\xa0250 KZT."
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_renders_in_every_language(template: str, language: str) -> None:
    context: dict[str, object] = {
        **CONFIRMED,
        "code": "123456",
        "order": 42,
        "amount_minor": 3_500_00,
        "currency": "KZT",
        "days": 30,
        "link": "https://tulpar.example",
        "ticket": 7,
        "message": "OK",
    }
    text = render(template, context, language=language)
    assert "{" not in text
    assert "Tulpar" in text
    if language != "en":
        assert text != render(template, context, language="en")


def test_otp_text_in_kazakh() -> None:
    assert render("otp", {"code": "042917"}, language="kk") == (
        "Tulpar: код 042917. 5 минут жарамды. Оны ешкімге айтпаңыз."
    )


def test_a_missing_value_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="needs order"):
        render("renewal_failed", {"plan": "X"}, language="en")
