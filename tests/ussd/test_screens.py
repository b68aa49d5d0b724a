"""Every screen the menu can show, in all four languages, fits the protocol: 182 GSM-7
septets, or 80 UTF-16 units once UCS-2 is needed, prefix included — with everyday values and
with the longest ones a card can have. And every option a screen shows is one it accepts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tulpar.demo.catalog import DEMO_PLANS
from tulpar.kit.format import GB, MB
from tulpar.kit.languages import LANGUAGES
from tulpar.money import Money
from tulpar.ussd import menu
from tulpar.ussd.screens import CONTINUE, Line, fits, paginate, size
from tulpar.ussd.texts import Ending

ENDS_AT = datetime(2026, 12, 31, 18, 59, tzinfo=UTC)
PLANS = [
    menu.PlanOffer(plan.code, plan.names, Money(plan.prices_minor["KZT"], "KZT"))
    for plan in DEMO_PLANS
]
LONG_NAMES = {
    "zh-Hans": "哈萨克斯坦全境 30天 超大流量 20GB 畅游套餐 含通话",
    "ru": "Казахстан и Кыргызстан 30 дней 20 ГБ безлимитные звонки",
    "kk": "Қазақстан мен Қырғызстан 30 күн 20 ГБ шексіз қоңырау",
    "en": "Kazakhstan and Kyrgyzstan 30 days 20 GB with unlimited calls and SMS",
}
PLANS_WITH_A_LONG_NAME = [*PLANS, menu.PlanOffer("LONG", LONG_NAMES, Money(12_345_600_00, "KZT"))]
EVERYDAY = menu.Amounts(int(9.5 * GB), 3_599, 50)
LONGEST = menu.Amounts(1023 * MB + 900 * 1024, 99_999 * 60, 9_999)
UNLIMITED = menu.Amounts(None, None, None)
RICH = Money(987_654_321, "KZT")  # 9,876,543.21 KZT: minor units shown


def _balances() -> Iterator[menu.Balance]:
    for left in (EVERYDAY, LONGEST, UNLIMITED, menu.Amounts()):
        for wallet in (Money(0, "KZT"), Money(5_000_00, "KZT"), RICH):
            yield menu.Balance(menu.Standing.active, ENDS_AT, None, left, wallet)
    yield menu.Balance(menu.Standing.expired, ENDS_AT, ENDS_AT, menu.Amounts(), RICH)
    yield menu.Balance(menu.Standing.no_plan, None, None, menu.Amounts(), RICH)


def _offers() -> Iterator[menu.Offer]:
    for plan in PLANS_WITH_A_LONG_NAME:
        for carried, forfeited in ((menu.Amounts(), menu.Amounts()), (LONGEST, UNLIMITED)):
            for wallet in (Money(0, "KZT"), RICH):
                yield menu.Offer(plan, ENDS_AT, carried, forfeited, wallet)


def _screens(language: str) -> Iterator[menu.Screen]:
    """Each state's screens, following "more" through all its pages."""
    starts: list[tuple[menu.State, menu.Facts]] = [
        *((menu.Home(), menu.Facts(balance=balance)) for balance in _balances()),
        (menu.PlanList(), menu.Facts(plans=PLANS)),
        (menu.PlanList(), menu.Facts(plans=PLANS_WITH_A_LONG_NAME)),
        (menu.PlanList(), menu.Facts(plans=[])),
        *((menu.Confirm(offer.plan.code), menu.Facts(offer=offer)) for offer in _offers()),
        (menu.Confirm("GONE"), menu.Facts(offer=None)),
        (menu.LanguageChoice(), menu.Facts()),
        *((menu.Ended(ending, order=9_999_999_999, minutes=15), menu.Facts()) for ending in Ending),
    ]
    for state, facts in starts:
        for notice in (None, menu.invalid_choice(language)):
            screen = menu.present(state, facts, language, service_code="*100#", notice=notice)
            yield screen
            for _ in range(20):
                target = screen.choices.get("0")
                if not isinstance(target, menu.Home | menu.PlanList | menu.Confirm):
                    break
                screen = menu.present(target, facts, language, service_code="*100#")
                yield screen


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_fits_the_protocol(language: str) -> None:
    too_long = [(size(screen.reply), screen.reply) for screen in _screens(language)]
    assert [entry for entry in too_long if not fits(entry[1])] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_option_shown_is_accepted(language: str) -> None:
    for screen in _screens(language):
        shown = {line.split(" ", 1)[0] for line in screen.text.splitlines()}
        keys = {key for key in shown if key.isdigit() and len(key) <= 2}  # not "3500 KZT"
        assert keys <= set(screen.choices), screen.reply


def test_chinese_cyrillic_and_kazakh_need_ucs2_and_english_stays_gsm7() -> None:
    balance = menu.Balance(menu.Standing.active, ENDS_AT, None, EVERYDAY, RICH)
    encodings = {
        language: size(
            menu.present(
                menu.Home(), menu.Facts(balance=balance), language, service_code="*100#"
            ).reply
        )[0]
        for language in LANGUAGES
    }
    assert encodings == {"zh-Hans": "ucs2", "ru": "ucs2", "kk": "ucs2", "en": "gsm7"}


class TestPaginate:
    def test_a_short_list_is_one_page_with_its_options(self) -> None:
        pages = paginate(
            ["a", "b"],
            options=[Line("1", "Pay")],
            more=Line("0", "More"),
            back=Line("00", "Back"),
            back_on_first=True,
        )
        assert pages == ["a\nb\n1 Pay\n00 Back"]

    def test_a_long_list_spreads_over_pages_that_each_fit(self) -> None:
        body = [f"{n} Казахстан {n} дней" for n in range(1, 13)]
        pages = paginate(
            body,
            options=[],
            more=Line("0", "Ещё"),
            back=Line("00", "Назад"),
            back_on_first=False,
        )
        assert len(pages) > 1
        assert all(fits(CONTINUE + page) for page in pages)
        assert all("0 Ещё" in page.splitlines() for page in pages[:-1])
        assert all("00 Назад" in page for page in pages[1:])
        shown = [line for page in pages for line in page.splitlines() if "Казахстан" in line]
        assert shown == body

    def test_a_line_longer_than_a_page_is_shortened_not_lost(self) -> None:
        pages = paginate(
            ["长" * 200, "b"], options=[], more=Line("0", "更多"), back=None, back_on_first=False
        )
        assert pages[0].startswith("长")
        assert "..." in pages[0]
        assert all(fits(CONTINUE + page) for page in pages)
