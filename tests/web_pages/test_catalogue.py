"""All of the traveller pages' text is in the catalogues: the templates hold no literal
words, and every message they (or the refusal texts) use is translated in all four
languages. (That no catalogue lacks a translation of another's message is
``tests/kit/test_catalogues.py``.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from tulpar.kit.languages import LANGUAGES, babel_locale
from tulpar.models import CardState, TicketStatus
from tulpar.web.traveller import messages
from tulpar.web.traveller.pages import TEMPLATES

LOCALES = TEMPLATES.parent / "locales"
# Message ids templates build at run time (``_("state:" ~ view.state)``).
DYNAMIC = {
    *(f"language:{language}" for language in LANGUAGES),
    *(f"state:{state.value}" for state in CardState),
    *(f"ticket:{status.value}" for status in TicketStatus),
    "provider:sandbox",
}
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
_TAG = re.compile(r"<[^>]*>", re.S)


def _template_messages() -> set[str]:
    found: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        with template.open("rb") as source:
            for _, _, message, _ in babel_extract(source, ("_", "gettext"), [], {}):
                found.update(
                    m for m in (message if isinstance(message, tuple) else (message,)) if m
                )
    return found


def _catalogue(language: str) -> dict[str, str]:
    with (LOCALES / f"{language}.po").open("rb") as source:
        catalog = read_po(source, locale=babel_locale(language))
    return {str(message.id): str(message.string) for message in catalog if message.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_the_pages_use_is_translated(language: str) -> None:
    catalogue = _catalogue(language)
    used = _template_messages() | messages.all_message_ids() | DYNAMIC

    assert sorted(m for m in used if not catalogue.get(m)) == []


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_literal_words(template: Path) -> None:
    text = _TAG.sub(" ", _JINJA.sub(" ", template.read_text()))
    words = [word for word in re.findall(r"[^\W\d_]+", text) if word not in {"nbsp"}]

    assert words == []


def test_placeholders_survive_translation() -> None:
    english = _catalogue("en")
    for language in LANGUAGES:
        for message, translated in _catalogue(language).items():
            wanted = sorted(re.findall(r"%\((\w+)\)s", message))
            assert sorted(re.findall(r"%\((\w+)\)s", translated)) == wanted, (language, message)
    assert english["language:zh-Hans"] == "中文"
