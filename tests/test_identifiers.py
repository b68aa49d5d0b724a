from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tulpar.errors import (
    InvalidActivationCodeError,
    InvalidCardReferenceError,
    InvalidEidError,
    InvalidIccidError,
    InvalidMsisdnError,
)
from tulpar.identifiers import (
    ActivationCode,
    Eid,
    Iccid,
    Msisdn,
    luhn_check_digit,
    parse_card_reference,
)

VALID_ICCID = "8999701000000000015"  # 19 digits, Kazakh country code 997, Luhn-valid


class TestIccid:
    def test_accepts_a_valid_number_and_knows_it_is_kazakh(self) -> None:
        iccid = Iccid.parse(VALID_ICCID)
        assert iccid.value == VALID_ICCID
        assert iccid.is_kazakh

    def test_strips_the_trailing_f_pad_and_separators(self) -> None:
        assert Iccid.parse("8999 7010 0000 0000 015f").value == VALID_ICCID

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ("8999701000000000016", "check digit"),
            ("1999701000000000015", "starts with 89"),
            ("89997010000000", "18 to 20 digits"),
            ("899970100000000000000015", "18 to 20 digits"),
            ("89997010000000000A5", "only digits"),
            ("", "only digits"),
            ("８９９９７０１０００００００００１５", "only digits"),  # full-width digits
        ],
    )
    def test_refuses_malformed_numbers_with_a_reason(self, raw: str, message: str) -> None:
        with pytest.raises(InvalidIccidError, match=message):
            Iccid.parse(raw)

    @given(st.text(alphabet="0123456789", min_size=15, max_size=17))
    def test_any_payload_with_its_luhn_digit_is_valid(self, body: str) -> None:
        payload = "89" + body
        iccid = Iccid.parse(payload + luhn_check_digit(payload))
        assert iccid.value.startswith("89")

    @given(st.text(alphabet="0123456789", min_size=15, max_size=17), st.integers(1, 9))
    def test_a_wrong_check_digit_is_always_refused(self, body: str, shift: int) -> None:
        payload = "89" + body
        wrong = (int(luhn_check_digit(payload)) + shift) % 10
        with pytest.raises(InvalidIccidError):
            Iccid.parse(payload + str(wrong))

    def test_masks_the_middle(self) -> None:
        assert Iccid.parse(VALID_ICCID).masked() == "899970…0015"


class TestEid:
    VALID = "89049032000001000000000000000000"

    @staticmethod
    def _with_check_digits(first_30: str) -> str:
        check = 98 - (int(first_30 + "00") % 97)
        return f"{first_30}{check:02d}"

    def test_accepts_mod_97_equal_1(self) -> None:
        eid = self._with_check_digits("890490320000010000000000000000")
        assert int(Eid.parse(eid).value) % 97 == 1

    def test_refuses_wrong_check_digits(self) -> None:
        eid = self._with_check_digits("890490320000010000000000000000")
        broken = eid[:-1] + str((int(eid[-1]) + 1) % 10)
        with pytest.raises(InvalidEidError, match="check digits"):
            Eid.parse(broken)

    @pytest.mark.parametrize("raw", ["123", "8904903200000100000000000000000X", "9" * 33])
    def test_refuses_wrong_length_or_characters(self, raw: str) -> None:
        with pytest.raises(InvalidEidError, match="32 digits"):
            Eid.parse(raw)


class TestMsisdn:
    @pytest.mark.parametrize(
        "raw", ["+7 701 123 4567", "87011234567", "8 (701) 123-45-67", "+77011234567"]
    )
    def test_normalises_kazakh_input_to_e164(self, raw: str) -> None:
        assert Msisdn.parse(raw).value == "+77011234567"

    def test_keeps_a_chinese_number(self) -> None:
        assert Msisdn.parse("+86 138 0013 8000").value == "+8613800138000"

    @pytest.mark.parametrize("raw", ["", "hello", "+7 701 12", "+7 100 123 4567", "1" * 40])
    def test_refuses_numbers_that_are_not_valid(self, raw: str) -> None:
        with pytest.raises(InvalidMsisdnError):
            Msisdn.parse(raw)


class TestActivationCode:
    def test_parses_the_minimal_form(self) -> None:
        code = ActivationCode.parse("LPA:1$smdp.tulpar.kz$K2-ABC-123")
        assert (code.smdp_address, code.matching_id) == ("smdp.tulpar.kz", "K2-ABC-123")
        assert code.oid is None
        assert not code.confirmation_code_required
        assert str(code) == "LPA:1$smdp.tulpar.kz$K2-ABC-123"

    def test_parses_oid_and_confirmation_flag(self) -> None:
        code = ActivationCode.parse("LPA:1$smdp.tulpar.kz:8443$XYZ$1.3.6.1.4.1.31746$1")
        assert code.smdp_address == "smdp.tulpar.kz:8443"
        assert code.oid == "1.3.6.1.4.1.31746"
        assert code.confirmation_code_required
        assert str(code) == "LPA:1$smdp.tulpar.kz:8443$XYZ$1.3.6.1.4.1.31746$1"

    @pytest.mark.parametrize(
        "raw", ["", "LPA:2$smdp.tulpar.kz$X", "LPA:1$$X", "LPA:1$localhost$X", "smdp.kz$X"]
    )
    def test_refuses_malformed_codes(self, raw: str) -> None:
        with pytest.raises(InvalidActivationCodeError):
            ActivationCode.parse(raw)


class TestCardReference:
    def test_an_iccid_is_an_iccid(self) -> None:
        assert parse_card_reference(VALID_ICCID) == Iccid(VALID_ICCID)

    def test_a_phone_number_is_a_msisdn(self) -> None:
        assert parse_card_reference("8 701 123 4567") == Msisdn("+77011234567")

    def test_a_bad_iccid_says_so_rather_than_phone_number(self) -> None:
        with pytest.raises(InvalidIccidError):
            parse_card_reference("8999701000000000016")

    def test_garbage_is_refused(self) -> None:
        with pytest.raises(InvalidCardReferenceError):
            parse_card_reference("not a card")
