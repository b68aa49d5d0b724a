"""An amount reads the same in the SMS, on the receipt page, in its PDF and on a kit page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tulpar.kit.format import formatter_for
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Receipt
from tulpar.notification.templates import render
from tulpar.receipt import documents


def _receipt(total_minor: int, language: str) -> Receipt:
    # Display needs no database: a receipt as it would be loaded.
    return Receipt(
        public_id="p" * 16,
        number="WEB-000001",
        card_masked="899970…0001",
        language=language,
        currency="KZT",
        lines=[
            {
                "description": "Top-up",
                "quantity": 1,
                "unit_price_minor": total_minor,
                "amount_minor": total_minor,
            }
        ],
        total_minor=total_minor,
        vat_rate_basis_points=16_00,
        vat_minor=0,
        payment_method="wallet",
        issued_at=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
        signature="s",
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("amount_minor", [3_500_00, 482_76, 1_250_000_00])
def test_the_sms_and_the_receipt_write_an_amount_alike(language: str, amount_minor: int) -> None:
    expected = formatter_for(language).money(amount_minor, "KZT")
    sms = render(
        "topup_confirmed",
        {"amount_minor": amount_minor, "currency": "KZT", "wallet_minor": amount_minor},
        language=language,
    )
    receipt = _receipt(amount_minor, language)

    shown = documents.view(receipt, language)

    assert sms.count(expected) == 2
    assert (shown.total, shown.lines[0]["amount"]) == (expected, expected)
    assert f">{expected}<" in documents.receipt_html(receipt, language)
