from __future__ import annotations

import pytest

from tulpar.kit.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    accepted_tags,
    matching_language,
    resolve_language,
)


class TestResolveLanguage:
    def test_an_explicit_choice_wins_over_the_cookie_and_the_browser(self) -> None:
        assert resolve_language("kk", "ru", "en-US,en;q=0.9") == "kk"

    def test_the_remembered_cookie_wins_over_the_browser(self) -> None:
        assert resolve_language(None, "ru", "en-US,en;q=0.9") == "ru"

    def test_the_browser_decides_when_nothing_was_chosen(self) -> None:
        assert resolve_language(None, None, "en-GB,en;q=0.9") == "en"

    def test_nothing_known_means_simplified_chinese(self) -> None:
        assert resolve_language(None, None, None) == "zh-Hans" == DEFAULT_LANGUAGE
        assert resolve_language("", "", "") == "zh-Hans"

    def test_unsupported_choices_are_skipped_not_errors(self) -> None:
        assert resolve_language("fr", "de", "ja,ru;q=0.5") == "ru"
        assert resolve_language("fr", "de", "ja") == "zh-Hans"

    def test_the_highest_q_value_wins_whatever_the_order(self) -> None:
        assert resolve_language(None, None, "en;q=0.3, ru;q=0.8, kk;q=0.5") == "ru"

    def test_equal_weights_keep_the_header_order(self) -> None:
        assert resolve_language(None, None, "kk, ru") == "kk"

    def test_q_zero_refuses_a_language(self) -> None:
        assert resolve_language(None, None, "en;q=0, ru;q=0.1") == "ru"

    def test_malformed_weights_are_ignored(self) -> None:
        assert resolve_language(None, None, "en;q=high, ru;q=2, kk;q=0.2") == "kk"


class TestMatchingLanguage:
    @pytest.mark.parametrize(
        "tag", ["zh", "zh-CN", "zh-cn", "zh-Hans", "zh-Hans-CN", "zh-SG", "zh_CN", "ZH-hans"]
    )
    def test_simplified_chinese_tags(self, tag: str) -> None:
        assert matching_language(tag) == "zh-Hans"

    @pytest.mark.parametrize("tag", ["zh-TW", "zh-HK", "zh-Hant", "zh-Hant-TW"])
    def test_traditional_chinese_is_not_simplified(self, tag: str) -> None:
        assert matching_language(tag) is None

    @pytest.mark.parametrize(
        ("tag", "language"),
        [("ru", "ru"), ("ru-RU", "ru"), ("ru-KZ", "ru"), ("kk", "kk"), ("kk-KZ", "kk"),
         ("kk-Cyrl-KZ", "kk"), ("en", "en"), ("en-US", "en"), ("en-GB", "en")],
    )  # fmt: skip
    def test_regional_variants_map_to_the_language(self, tag: str, language: str) -> None:
        assert matching_language(tag) == language

    @pytest.mark.parametrize("tag", [None, "", "fr", "rus", "english", "*"])
    def test_other_tags_match_nothing(self, tag: str | None) -> None:
        assert matching_language(tag) is None

    def test_every_language_matches_itself(self) -> None:
        assert [matching_language(language) for language in LANGUAGES] == list(LANGUAGES)


def test_accepted_tags_are_ordered_by_preference() -> None:
    header = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"
    assert accepted_tags(header) == ["fr-CH", "fr", "en", "de"]
