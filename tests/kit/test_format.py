from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tulpar.kit.format import GB, MB, Formatter, formatter_for, local_date, local_time
from tulpar.kit.languages import LANGUAGES

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


class TestMoney:
    @pytest.mark.parametrize(
        ("language", "text"),
        [("en", "5,900 KZT"), ("zh-Hans", "5,900 KZT"), ("ru", "5\xa0900 KZT"),
         ("kk", "5\xa0900 KZT")],
    )  # fmt: skip
    def test_the_iso_code_follows_the_locales_number(self, language: str, text: str) -> None:
        assert formatter_for(language).money(5_900_00, "KZT") == text

    def test_minor_units_are_shown_exactly_when_there_are_any(self) -> None:
        assert formatter_for("en").money(482_76, "KZT") == "482.76 KZT"
        assert formatter_for("ru").money(482_76, "KZT") == "482,76 KZT"
        assert formatter_for("en").money(1, "USD") == "0.01 USD"
        assert formatter_for("en").money(123_456_789_01, "KZT") == "123,456,789.01 KZT"

    def test_compact_drops_the_digit_grouping(self) -> None:
        assert formatter_for("ru").money(5_900_00, "KZT", compact=True) == "5900 KZT"
        assert formatter_for("en").money(5_900_50, "KZT", compact=True) == "5900.50 KZT"

    def test_never_a_currency_symbol(self) -> None:
        for language in LANGUAGES:
            for currency in ("KZT", "CNY", "USD"):
                text = formatter_for(language).money(52_00, currency)
                assert text.endswith(f" {currency}")
                assert not {"₸", "¥", "$"} & set(text)


class TestData:
    def test_one_gigabyte_is_1024_megabytes(self) -> None:
        assert (GB, MB) == (1024**3, 1024**2)
        assert formatter_for("en").data(GB) == "1 GB"
        assert formatter_for("en").data(GB - 1) == "1,024 MB"
        assert formatter_for("en").data(1536 * MB) == "1.5 GB"

    def test_below_a_gigabyte_megabytes_with_one_decimal_at_most(self) -> None:
        assert formatter_for("en").data(512 * MB) == "512 MB"
        assert formatter_for("en").data(512 * MB + MB // 4) == "512.2 MB"
        assert formatter_for("en").data(0) == "0 MB"

    def test_the_decimal_mark_is_the_locales(self) -> None:
        assert formatter_for("zh-Hans").data(10 * GB - 512 * MB) == "9.5 GB"
        assert formatter_for("ru").data(10 * GB - 512 * MB) == "9,5 GB"


class TestLocalTime:
    def test_kazakhstan_time_with_its_offset_in_every_language(self) -> None:
        for language in LANGUAGES:
            shown = formatter_for(language)
            assert shown.local_time(NOW) == "2026-12-01 11:00 (UTC+5)" == local_time(NOW)

    def test_the_local_date_is_kazakhstans_calendar_day(self) -> None:
        late_evening_utc = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
        assert local_date(late_evening_utc) == "2026-12-01"
        assert formatter_for("ru").local_date(late_evening_utc) == "2026-12-01"


class TestMinutes:
    @pytest.mark.parametrize(
        ("language", "text"),
        [("en", "59 min"), ("ru", "59 мин"), ("kk", "59 мин"), ("zh-Hans", "59分钟")],
    )
    def test_whole_minutes_left(self, language: str, text: str) -> None:
        assert formatter_for(language).minutes(3_599) == text


class TestCountdown:
    @pytest.mark.parametrize(
        ("language", "day_and_hours", "days", "hours_and_minutes", "seconds"),
        [("en", "1 day 4 h", "5 days", "3 h 20 min", "1 min"),
         ("ru", "1 день 4 ч", "5 дней", "3 ч 20 мин", "1 мин"),
         ("kk", "1 күн 4 сағ", "5 күн", "3 сағ 20 мин", "1 мин"),
         ("zh-Hans", "1天4小时", "5天", "3小时20分钟", "1分钟")],
    )  # fmt: skip
    def test_the_two_largest_units_in_each_language(
        self, language: str, day_and_hours: str, days: str, hours_and_minutes: str, seconds: str
    ) -> None:
        shown = formatter_for(language)
        assert shown.countdown(NOW + timedelta(days=1, hours=4, minutes=10), NOW) == day_and_hours
        assert shown.countdown(NOW + timedelta(days=5), NOW) == days
        assert shown.countdown(NOW + timedelta(hours=3, minutes=20), NOW) == hours_and_minutes
        assert shown.countdown(NOW + timedelta(seconds=20), NOW) == seconds

    @pytest.mark.parametrize(
        ("days", "text"), [(1, "1 день"), (2, "2 дня"), (5, "5 дней"), (21, "21 день")]
    )
    def test_russian_days_take_their_plural_form(self, days: int, text: str) -> None:
        assert formatter_for("ru").countdown(NOW + timedelta(days=days), NOW) == text

    def test_a_moment_passed_is_zero(self) -> None:
        assert formatter_for("en").countdown(NOW - timedelta(hours=1), NOW) == "0 min"
        assert formatter_for("en").countdown(NOW, NOW) == "0 min"


def test_formatters_are_shared_and_unknown_languages_read_english() -> None:
    assert formatter_for("ru") is formatter_for("ru")
    assert formatter_for("fr") == Formatter("en")
