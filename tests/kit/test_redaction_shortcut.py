"""Log redaction skips its four passes over text that none of them could change: the
one-pass check must let through everything any pass would match."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tulpar.kit import logging as tulpar_logging

_PASSES = (
    tulpar_logging._BEARER,
    tulpar_logging._TOKEN_LIKE,
    tulpar_logging._NAMED_CODE,
    tulpar_logging._DIGITS,
)
_PIECES = st.sampled_from(
    [
        "Bearer ",
        "BASIC ",
        "tlp_",
        "trv_",
        "Code",
        "OTP",
        "passwd",
        "PassWord",
        "secret",
        "token",
        "PIN",
        " ",
        ":",
        "=",
        "'",
        "_",
        "-",
        "+7",
        "8997",
        "0",
        "1 2",
        "ſ",
        "K",
        "ı",
    ]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=12).map("".join)


@given(_TEXT)
def test_text_the_check_lets_pass_untouched_is_text_no_pass_would_change(text: str) -> None:
    if tulpar_logging._MAY_HOLD_A_SECRET.search(text) is None:
        assert all(found.search(text) is None for found in _PASSES), text
        assert tulpar_logging.redact_text(text) == text


def test_a_line_with_a_secret_is_still_masked() -> None:
    assert tulpar_logging.redact_text("sent Bearer abc.def to 89970000000000000015") == (
        f"sent Bearer {tulpar_logging.MASK} to …0015"
    )
    assert tulpar_logging.redact_text("order paid") == "order paid"
