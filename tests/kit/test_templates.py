from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tulpar.kit.templates import page_environment

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
RUSSIAN = """msgid ""
msgstr ""
"Language: ru\\n"
"Content-Type: text/plain; charset=utf-8\\n"

msgid "Price"
msgstr "Цена"
"""


def _pages(tmp_path: Path) -> Path:
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "ru.po").write_text(RUSSIAN, encoding="utf-8")
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "page.html").write_text(
        '<p lang="{{ language }}">{{ _("Price") }}: {{ amount|money("KZT") }}</p>'
        "<p>{{ until|local_time }} · {{ until|countdown(now) }} · {{ size|data }}</p>"
        "<p>{{ note }}</p>",
        encoding="utf-8",
    )
    return pages


def test_a_page_is_translated_formatted_and_escaped(tmp_path: Path) -> None:
    page = page_environment(_pages(tmp_path), "ru").get_template("page.html")

    until = NOW + timedelta(days=1, hours=4)
    html = page.render(amount=5_900_00, until=until, now=NOW, size=1536 * 1024**2, note="<script>")

    assert html == (
        '<p lang="ru">Цена: 5\xa0900 KZT</p>'
        "<p>2026-12-02 15:00 (UTC+5) · 1 день 4 ч · 1,5 GB</p>"
        "<p>&lt;script&gt;</p>"
    )


def test_one_environment_per_directory_and_language(tmp_path: Path) -> None:
    pages = _pages(tmp_path)

    russian, english = page_environment(pages, "ru"), page_environment(pages, "en")

    assert page_environment(pages, "ru") is russian
    assert english is not russian
    assert (
        english.get_template("page.html")
        .render(amount=1, until=NOW, now=NOW, size=0, note="")
        .startswith('<p lang="en">Price: 0.01 KZT</p>')
    )
