"""X-Twilio-Signature against the published vectors of twilio-python's
tests/unit/test_request_validator.py."""

from __future__ import annotations

from tulpar.integrations.sms.twilio_signature import compute, is_valid

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_the_published_signature_is_computed() -> None:
    assert compute(TOKEN, URL, PARAMS.items()) == EXPECTED


def test_repeated_parameters_sort_by_value_too() -> None:
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert compute(TOKEN, URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_a_valid_signature_is_accepted() -> None:
    assert is_valid(TOKEN, URL, PARAMS.items(), EXPECTED)


def test_a_port_on_the_url_is_tolerated_either_way() -> None:
    assert is_valid(TOKEN, URL.replace(".com", ".com:1234"), PARAMS.items(), EXPECTED)
    http_with_port = URL.replace(".com", ".com:1234").replace("https", "http")
    assert is_valid(TOKEN, http_with_port, PARAMS.items(), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")
    assert is_valid(TOKEN, URL, PARAMS.items(), "kvajT1Ptam85bY51eRf/AJRuM3w=")
    assert is_valid(
        TOKEN, URL.replace("https", "http"), PARAMS.items(), "0ZXoZLH/DfblKGATFgpif+LLRf4="
    )


def test_a_changed_parameter_a_wrong_token_or_no_signature_is_refused() -> None:
    assert not is_valid(TOKEN, URL, {**PARAMS, "Digits": "1235"}.items(), EXPECTED)
    assert not is_valid("54321", URL, PARAMS.items(), EXPECTED)
    assert not is_valid(TOKEN, URL, PARAMS.items(), None)
    assert not is_valid(TOKEN, URL, PARAMS.items(), "")
    assert not is_valid("", URL, PARAMS.items(), EXPECTED)
