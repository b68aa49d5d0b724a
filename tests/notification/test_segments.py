from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tulpar.notification.segments import SegmentCount, count_segments, is_gsm7
from tulpar.notification.templates import render


class TestGsm7:
    def test_empty_text_is_one_segment(self) -> None:
        assert count_segments("") == SegmentCount(encoding="gsm7", units=0, segments=1)

    def test_160_basic_characters_fit_one_segment(self) -> None:
        assert count_segments("a" * 160) == SegmentCount(encoding="gsm7", units=160, segments=1)

    def test_161_characters_need_two_parts_of_153(self) -> None:
        assert count_segments("a" * 161) == SegmentCount(encoding="gsm7", units=161, segments=2)
        assert count_segments("a" * 306).segments == 2
        assert count_segments("a" * 307).segments == 3

    def test_extension_characters_count_two_septets(self) -> None:
        assert count_segments("€" * 80) == SegmentCount(encoding="gsm7", units=160, segments=1)
        assert count_segments("a" + "€" * 80) == SegmentCount(
            encoding="gsm7", units=161, segments=2
        )

    def test_an_escape_pair_is_not_split_across_parts(self) -> None:
        # 152 septets then a 2-septet "€": the pair moves whole to the second part.
        text = "a" * 152 + "€" + "a" * 152
        assert count_segments(text) == SegmentCount(encoding="gsm7", units=306, segments=3)

    @pytest.mark.parametrize("char", ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"])
    def test_every_extension_character_is_gsm7_costing_two(self, char: str) -> None:
        assert is_gsm7(char)
        assert count_segments(char).units == 2

    def test_basic_accents_and_greek_stay_gsm7(self) -> None:
        assert count_segments("Ça coûte £5 @ ΔΩ èé").encoding == "ucs2"  # û is not GSM-7
        assert count_segments("Ça £5 @ ΔΩ èé ñ").encoding == "gsm7"


class TestUcs2:
    def test_chinese_fits_70_per_single_segment(self) -> None:
        assert count_segments("验" * 70) == SegmentCount(encoding="ucs2", units=70, segments=1)
        assert count_segments("验" * 71) == SegmentCount(encoding="ucs2", units=71, segments=2)

    def test_concatenated_parts_hold_67(self) -> None:
        assert count_segments("д" * 134).segments == 2
        assert count_segments("д" * 135).segments == 3

    def test_one_non_gsm_character_switches_the_whole_text(self) -> None:
        assert count_segments("Tulpar ₸").encoding == "ucs2"

    def test_emoji_take_two_code_units_and_are_not_split(self) -> None:
        assert count_segments("😀" * 35) == SegmentCount(encoding="ucs2", units=70, segments=1)
        # 66 units then a surrogate pair that would straddle the 67 boundary: 134 units
        # would fit two parts if the pair could be split; it cannot, so three.
        assert count_segments("a" * 66 + "😀" + "a" * 66) == SegmentCount(
            encoding="ucs2", units=134, segments=3
        )


class TestRealMessages:
    def test_a_gsm7_text_with_euro_and_braces_is_counted_in_septets(self) -> None:
        text = "Tulpar {promo} costs 10 €, see [terms] " * 5  # 195 characters
        count = count_segments(text)
        assert count.encoding == "gsm7"
        assert count.units == 195 + 5 * 5  # { } € [ ] cost two septets each
        assert count.segments == 2

    def test_the_chinese_renewal_confirmation_fits_two_segments(self) -> None:
        text = render(
            "renewal_confirmed",
            {
                "plan": {"zh-Hans": "哈萨克斯坦 30天 20GB 畅游套餐", "en": "KZ 30 days"},
                "validity_ends_at": datetime(2026, 12, 31, 18, 59, tzinfo=UTC),
                "data_bytes": 19 * 1024**3 + 999 * 1024**2,
                "voice_seconds": 1_000 * 60,
                "sms_count": 100,
                "wallet_minor": 1_234_567_00,
                "wallet_currency": "KZT",
            },
            language="zh-Hans",
        )
        count = count_segments(text)
        assert count.encoding == "ucs2"
        assert count.units > 70
        assert count.segments == 2
