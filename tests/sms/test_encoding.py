from __future__ import annotations

import pytest

from tulpar.integrations.sms import encoding


class TestSplit:
    def test_gsm7_with_extension_characters_is_cut_by_septets(self) -> None:
        # 180 characters, 360 septets: a character count would make two parts of 153 chars,
        # i.e. parts of up to 306 septets.
        text = "€{}" * 60
        cut = encoding.split(text)
        assert cut.encoding == "gsm7"
        assert cut.units == 360
        assert [len(encoding.encode(part, "gsm7")) for part in cut.parts] == [152, 152, 56]
        assert "".join(cut.parts) == text

    def test_an_escape_pair_moves_whole_to_the_next_part(self) -> None:
        cut = encoding.split("a" * 152 + "€" + "a" * 10)
        assert [len(encoding.encode(part, "gsm7")) for part in cut.parts] == [152, 12]
        assert cut.parts[1].startswith("€")

    def test_ucs2_is_cut_by_code_units_and_never_inside_an_emoji(self) -> None:
        cut = encoding.split("a" * 66 + "😀" + "b" * 10)
        assert cut.encoding == "ucs2"
        assert [len(encoding.encode(part, "ucs2")) // 2 for part in cut.parts] == [66, 12]

    def test_a_text_that_fits_stays_one_part(self) -> None:
        assert encoding.split("验" * 70).parts == ("验" * 70,)
        assert encoding.split("€" * 80).parts == ("€" * 80,)


class TestCoding:
    @pytest.mark.parametrize("text", ["Hello @£$ ΔΩ €{}[]~|^\\ ñ", "余额 БАЛАНС ҚАЛДЫҚ 😀"])
    def test_encode_then_decode_gives_the_text_back(self, text: str) -> None:
        kind = encoding.encoding_for(text)
        assert encoding.decode(encoding.encode(text, kind), encoding.DATA_CODING[kind]) == text

    def test_gsm7_is_one_septet_per_octet_with_escape_pairs(self) -> None:
        assert encoding.encode("@A€", "gsm7") == bytes((0x00, 0x41, 0x1B, 0x65))

    def test_the_concatenation_header_round_trips(self) -> None:
        header = encoding.concatenation_header(0x1A7, 3, 2)
        assert header == bytes((5, 0, 3, 0xA7, 3, 2))
        concatenation, payload = encoding.parse_user_data(header + b"xyz")
        assert concatenation == encoding.Concatenation(reference=0xA7, total=3, sequence=2)
        assert payload == b"xyz"

    def test_a_16_bit_reference_is_read_too(self) -> None:
        header = bytes((6, 8, 4, 0x12, 0x34, 2, 1))
        concatenation, payload = encoding.parse_user_data(header + b"ok")
        assert concatenation == encoding.Concatenation(reference=0x1234, total=2, sequence=1)
        assert payload == b"ok"
