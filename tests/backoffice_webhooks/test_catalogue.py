"""The webhook pages' text is all in their catalogues: every message the templates use,
the state labels they build at run time and the refusals they show are translated in all
four languages, and the templates hold no literal words."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures import catalogues
from tulpar.kit.languages import LANGUAGES
from tulpar.partner_webhook import service
from tulpar.web.backoffice.webhooks.pages import TEMPLATES

LOCALES = TEMPLATES.parent / "locales"
DYNAMIC = {
    *(f"delivery:{state}" for state in service.LOG_STATES),
    service.WebhookEventNotFoundError.title,
    service.WebhookReplayImpossibleError.title,
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_the_pages_use_is_translated(language: str) -> None:
    catalogue = catalogues.catalogue(LOCALES, language)
    used = catalogues.template_messages(TEMPLATES) | DYNAMIC

    assert sorted(m for m in used if not catalogue.get(m)) == []


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_literal_words(template: Path) -> None:
    assert catalogues.literal_words(template) == []
