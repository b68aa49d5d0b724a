"""All of the traveller pages' text is in the catalogues: the templates hold no literal
words, and every message they (or the refusal texts) use is translated in all four
languages. (That no catalogue lacks a translation of another's message is
``tests/kit/test_catalogues.py``.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixtures import catalogues
from tulpar.kit.languages import LANGUAGES
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


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_the_pages_use_is_translated(language: str) -> None:
    catalogue = catalogues.catalogue(LOCALES, language)
    used = catalogues.template_messages(TEMPLATES) | messages.all_message_ids() | DYNAMIC

    assert sorted(m for m in used if not catalogue.get(m)) == []


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_literal_words(template: Path) -> None:
    words = [word for word in catalogues.literal_words(template) if word not in {"nbsp"}]

    assert words == []


def test_placeholders_survive_translation() -> None:
    english = catalogues.catalogue(LOCALES, "en")
    for language in LANGUAGES:
        for message, translated in catalogues.catalogue(LOCALES, language).items():
            wanted = sorted(re.findall(r"%\((\w+)\)s", message))
            assert sorted(re.findall(r"%\((\w+)\)s", translated)) == wanted, (language, message)
    assert english["language:zh-Hans"] == "中文"
