from __future__ import annotations

import base64
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card, create_plan
from tulpar import clock
from tulpar.config import get_settings
from tulpar.errors import InvalidInputError
from tulpar.models import Receipt, ReceiptCounter
from tulpar.receipt import service, signing
from tulpar.receipt.service import ReceiptLine

RENEWAL = [ReceiptLine(description="KZ-15D-10GB 15天 10GB", quantity=1, unit_price_minor=3_500_00)]


def _issue(session: Session, card_id: int, *, issuer: str = "WEB", **options: object) -> Receipt:
    arguments: dict[str, object] = {
        "issuer": issuer,
        "card_id": card_id,
        "order_id": None,
        "lines": RENEWAL,
        "payment_method": "sandbox",
        "currency": "KZT",
        **options,
    }
    return service.issue(session, **arguments)  # type: ignore[arg-type]


class TestIssue:
    def test_numbers_each_issuer_from_one(self, session: Session, frozen_now: datetime) -> None:
        card = create_card(session)

        numbers = [
            _issue(session, card.id).number,
            _issue(session, card.id, issuer="STORE-ALMATY1").number,
            _issue(session, card.id).number,
        ]

        assert numbers == ["WEB-000001", "STORE-ALMATY1-000001", "WEB-000002"]

    def test_amounts_vat_and_the_signed_content(
        self, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session, language="zh-Hans")
        lines = [*RENEWAL, ReceiptLine(description="Top-up", quantity=2, unit_price_minor=500_00)]

        receipt = _issue(session, card.id, lines=lines, order_id=7)

        assert (
            receipt.total_minor,
            receipt.vat_rate_basis_points,
            receipt.vat_minor,
            receipt.currency,
            receipt.language,
            receipt.card_masked,
            receipt.issued_at,
        ) == (4_500_00, 16_00, 62_069, "KZT", "zh-Hans", f"{card.iccid[:6]}…{card.iccid[-4:]}",
              frozen_now)  # fmt: skip
        assert [line["amount_minor"] for line in receipt.lines] == [3_500_00, 1_000_00]
        assert len(receipt.public_id) == 16
        assert service.verify(session, receipt.public_id, receipt.signature).genuine

    def test_the_rate_follows_the_local_date_of_the_sale(self, session: Session) -> None:
        card = create_card(session)
        # 18:59 UTC on 31 December is 23:59 in Almaty: still 12 %; 19:00 UTC is 1 January.
        with clock.frozen(datetime(2025, 12, 31, 18, 59, tzinfo=UTC)):
            before = _issue(session, card.id)
        with clock.frozen(datetime(2025, 12, 31, 19, 0, tzinfo=UTC)):
            after = _issue(session, card.id)

        assert (before.vat_rate_basis_points, before.vat_minor) == (12_00, 37_500)
        assert (after.vat_rate_basis_points, after.vat_minor) == (16_00, 48_276)

    def test_an_order_gets_one_receipt_and_no_number_is_spent_twice(self, session: Session) -> None:
        card = create_card(session)
        first = _issue(session, card.id, order_id=42)
        again = _issue(session, card.id, order_id=42)

        assert again.id == first.id
        assert session.get(ReceiptCounter, "WEB").last_number == 1  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        "options",
        [
            {"issuer": "web"},
            {"issuer": "STORE_1"},
            {"lines": []},
            {"currency": "EUR"},
            {"payment_method": ""},
        ],
    )
    def test_refusals_write_nothing(self, session: Session, options: dict[str, object]) -> None:
        card = create_card(session)
        with pytest.raises(InvalidInputError):
            _issue(session, card.id, **options)  # type: ignore[arg-type]
        assert session.scalar(select(func.count()).select_from(Receipt)) == 0
        assert session.scalar(select(func.count()).select_from(ReceiptCounter)) == 0

    def test_bad_lines_are_refused(self) -> None:
        with pytest.raises(InvalidInputError):
            ReceiptLine(description="x", quantity=0, unit_price_minor=1)
        with pytest.raises(InvalidInputError):
            ReceiptLine(description="x", quantity=1, unit_price_minor=-1)


class TestPlanLines:
    def test_a_plan_line_keeps_its_code_under_the_signature(self, session: Session) -> None:
        plan = create_plan(session, code="KZ-15D-10GB")
        line = ReceiptLine.for_plan(plan.code, plan.names, "ru", unit_price_minor=3_500_00)

        receipt = _issue(session, create_card(session).id, lines=[line])

        assert receipt.lines == [
            {"description": "KZ-15D-10GB Тест", "quantity": 1, "unit_price_minor": 3_500_00,
             "amount_minor": 3_500_00, "plan_code": "KZ-15D-10GB"}
        ]  # fmt: skip
        assert service.verify(session, receipt.public_id, receipt.signature).genuine
        session.execute(
            text(
                "UPDATE receipts SET lines = jsonb_set(lines, '{0,plan_code}', '\"OTHER\"')"
                " WHERE id = :id"
            ),
            {"id": receipt.id},
        )
        session.expire_all()
        assert service.verify(session, receipt.public_id, receipt.signature).genuine is False

    def test_plan_names_leave_out_lines_without_a_known_plan(self, session: Session) -> None:
        plan = create_plan(session, code="KZ-7D-5GB")
        lines = [
            ReceiptLine.for_plan(plan.code, plan.names, "en", unit_price_minor=100),
            ReceiptLine("Retired plan", 1, 100, plan_code="KZ-GONE"),
            ReceiptLine("Wallet top-up", 1, 100),
        ]

        receipt = _issue(session, create_card(session).id, lines=lines)

        assert service.plan_names(session, receipt) == {"KZ-7D-5GB": plan.names}

    def test_a_blank_plan_code_is_refused(self) -> None:
        with pytest.raises(InvalidInputError):
            ReceiptLine("x", 1, 1, plan_code=" ")


class TestVerify:
    def test_a_genuine_receipt_passes(self, session: Session) -> None:
        receipt = _issue(session, create_card(session).id)
        verification = service.verify(session, receipt.public_id, receipt.signature)
        assert (verification.genuine, verification.receipt) == (True, receipt)

    def test_a_tampered_signature_fails(self, session: Session) -> None:
        receipt = _issue(session, create_card(session).id)
        flipped = ("A" if receipt.signature[0] != "A" else "B") + receipt.signature[1:]
        for signature in (flipped, "", "not-base64!", receipt.signature[:-2]):
            assert service.verify(session, receipt.public_id, signature).genuine is False

    def test_a_tampered_amount_fails(self, session: Session) -> None:
        receipt = _issue(session, create_card(session).id)
        session.execute(
            text("UPDATE receipts SET total_minor = total_minor * 10 WHERE id = :id"),
            {"id": receipt.id},
        )
        session.expire_all()
        assert service.verify(session, receipt.public_id, receipt.signature).genuine is False

    def test_an_unknown_receipt_fails(self, session: Session) -> None:
        receipt = _issue(session, create_card(session).id)
        assert service.verify(session, "x" * 16, receipt.signature).genuine is False

    def test_a_receipt_signed_by_another_key_fails(self, session: Session, tmp_path: Path) -> None:
        receipt = _issue(session, create_card(session).id)
        (tmp_path / signing.KEY_FILE_NAME).unlink()
        signing.signing_key.cache_clear()
        assert service.verify(session, receipt.public_id, receipt.signature).genuine is False


def test_the_generated_key_is_private_and_reused(session: Session, tmp_path: Path) -> None:
    first = signing.key_id()
    key_file = tmp_path / signing.KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    signing.signing_key.cache_clear()
    assert signing.key_id() == first


def test_a_configured_key_is_used_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = bytes(range(32))
    monkeypatch.setattr(
        get_settings(), "receipt_signing_key", base64.urlsafe_b64encode(seed).decode()
    )
    signing.signing_key.cache_clear()
    expected = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()

    assert signing.public_key_base64() == base64.urlsafe_b64encode(expected).decode().rstrip("=")
    assert list(tmp_path.iterdir()) == []


def test_numbers_stay_gapless_under_concurrency(committed: sessionmaker[Session]) -> None:
    """20 concurrent sales, every third rolled back after taking a number: the committed
    receipts are numbered 1..14 with no gap and no duplicate."""
    with committed() as session:
        card_id = create_card(session).id
        session.commit()
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def sell(index: int) -> None:
        try:
            barrier.wait()
            with committed() as session:
                _issue(session, card_id, issuer="STORE-ALMATY1")
                if index % 3 == 0:
                    session.rollback()  # e.g. the payment failed after the receipt was drafted
                else:
                    session.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=sell, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with committed() as session:
        numbers = session.scalars(select(Receipt.number).order_by(Receipt.sequence_number)).all()
        assert numbers == [f"STORE-ALMATY1-{n:06d}" for n in range(1, 14)]
        assert session.get(ReceiptCounter, "STORE-ALMATY1").last_number == 13  # type: ignore[union-attr]
