"""The webhook pages' text is all in their catalogues: every message the templates use,
the state labels they build at run time and the refusals they show are translated in all
four languages, and the templates hold no literal words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from tulpar.kit.languages import LANGUAGES, babel_locale
from tulpar.partner_webhook import service
from tulpar.web.backoffice.webhooks.pages import TEMPLATES

LOCALES = TEMPLATES.parent / "locales"
DYNAMIC = {
    *(f"delivery:{state}" for state in service.LOG_STATES),
    service.WebhookEventNotFoundError.title,
    service.WebhookReplayImpossibleError.title,
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
    used = _template_messages() | DYNAMIC

    assert sorted(m for m in used if not catalogue.get(m)) == []


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_literal_words(template: Path) -> None:
    text = _TAG.sub(" ", _JINJA.sub(" ", template.read_text()))

    assert re.findall(r"[^\W\d_]+", text) == []
