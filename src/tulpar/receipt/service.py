"""Receipts: numbered without gaps per issuer, VAT from the dated rate table, signed with
Ed25519 so the public ``/verify`` page can tell a genuine Tulpar receipt from a forgery."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.catalog import service as catalog_service
from tulpar.config import get_settings
from tulpar.errors import CardNotFoundError, InvalidInputError, PlanNotFoundError
from tulpar.identifiers import Iccid
from tulpar.models import FiscalRegistration, PaymentState, Receipt
from tulpar.money import Money
from tulpar.payment import service as payment_service
from tulpar.receipt import repository, signing, vat

ISSUER_FORMAT = re.compile(r"^[A-Z0-9]{2,12}(?:-[A-Z0-9]{1,20})?$")
PAYLOAD_VERSION = 1


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    description: str
    quantity: int
    unit_price_minor: int  # VAT included
    # A plan's line keeps its code, so each page can name the plan in the reader's language
    # instead of the language the card had when the receipt was issued.
    plan_code: str | None = None
    # The promotion applied to the line (see :class:`LinePromotion`), signed with it.
    promotion: LinePromotion | None = None

    @classmethod
    def for_plan(
        cls,
        code: str,
        names: Mapping[str, str],
        language: str,
        *,
        unit_price_minor: int,
        promotion: LinePromotion | None = None,
    ) -> ReceiptLine:
        """One unit of plan ``code``, described in ``language`` (stored as issued), at the
        price paid (after ``promotion``'s discount)."""
        return cls(
            description=plan_description(code, names, language),
            quantity=1,
            unit_price_minor=unit_price_minor,
            plan_code=code,
            promotion=promotion,
        )

    def __post_init__(self) -> None:
        if not self.description.strip() or len(self.description) > 200:
            raise InvalidInputError("A receipt line needs a description of 1 to 200 characters")
        if isinstance(self.quantity, bool) or self.quantity < 1:
            raise InvalidInputError("A receipt line's quantity is a positive whole number")
        if isinstance(self.unit_price_minor, bool) or self.unit_price_minor < 0:
            raise InvalidInputError("A receipt line's price is a non-negative whole number")
        if self.plan_code is not None and not self.plan_code.strip():
            raise InvalidInputError("A receipt line's plan code is not blank")

    @property
    def amount_minor(self) -> int:
        return self.quantity * self.unit_price_minor

    def stored(self) -> dict[str, Any]:
        """The line as the receipt keeps (and signs) it; ``plan_code`` only on a plan's line."""
        line: dict[str, Any] = {
            "description": self.description,
            "quantity": self.quantity,
            "unit_price_minor": self.unit_price_minor,
            "amount_minor": self.amount_minor,
        }
        if self.plan_code is not None:
            line["plan_code"] = self.plan_code
        if self.promotion is not None:
            # Only on lines with a promotion: receipts signed before promotions still verify.
            line["promotion"] = self.promotion.stored()
        return line


@dataclass(frozen=True, slots=True)
class LinePromotion:
    """A promotion on a receipt line: its names (every language, so each page shows the
    reader's), the price before it, the money off and the bonus it gave."""

    names: Mapping[str, str]
    list_price_minor: int
    discount_minor: int
    bonus_data_bytes: int = 0
    bonus_days: int = 0

    def stored(self) -> dict[str, Any]:
        return {
            "names": dict(self.names),
            "list_price_minor": self.list_price_minor,
            "discount_minor": self.discount_minor,
            "bonus_data_bytes": self.bonus_data_bytes,
            "bonus_days": self.bonus_days,
        }


def plan_description(code: str, names: Mapping[str, str], language: str) -> str:
    """``KZ-15D-10GB 15天 10GB``: the code, then the plan's name in ``language``."""
    return f"{code} {names.get(language) or names['en']}"


def issue(
    session: Session,
    *,
    issuer: str,
    card_id: int,
    order_id: int | None,
    lines: list[ReceiptLine],
    payment_method: str,
    currency: str,
    valid_until: datetime | None = None,
    seller: Seller | None = None,
) -> Receipt:
    """Issue the next receipt of ``issuer`` (``WEB``, ``STORE-ALMATY1`` …) in this transaction.

    The number (``WEB-000042``) is taken from the issuer's counter row, so it is gapless even
    with concurrent sales. For an order that already has a receipt, that receipt is returned
    unchanged (re-issuing never consumes a number). ``valid_until``: the validity end a plan
    line records when the receipt is issued before the plan is applied (a store sale, at the
    moment the money is taken); else the card's. ``seller``: who sells when it is not the
    default seller (a store's legal details), frozen on the receipt and signed. Never
    commits."""
    if not ISSUER_FORMAT.match(issuer):
        raise InvalidInputError("An issuer looks like WEB or STORE-ALMATY1")
    if not lines:
        raise InvalidInputError("A receipt has at least one line")
    money = Money.of(0, currency)
    if not payment_method.strip() or len(payment_method) > 32:
        raise InvalidInputError("A payment method has 1 to 32 characters")
    card = repository.card(session, card_id)
    if card is None:
        raise CardNotFoundError()
    if order_id is not None and (existing := repository.by_order(session, order_id)) is not None:
        return existing
    issued_at = clock.now().astimezone(UTC)
    total_minor = sum(line.amount_minor for line in lines)
    rate = vat.rate_on(clock.to_local(issued_at).date())
    sequence_number = repository.next_number(session, issuer)
    validity = valid_until or card.validity_ends_at
    stored_lines = [_with_validity(line.stored(), validity) for line in lines]
    receipt = Receipt(
        public_id=secrets.token_urlsafe(12),
        issuer=issuer,
        sequence_number=sequence_number,
        number=f"{issuer}-{sequence_number:06d}",
        card_id=card.id,
        order_id=order_id,
        card_masked=Iccid(card.iccid).masked(),
        language=card.language,
        currency=money.currency,
        lines=stored_lines,
        total_minor=total_minor,
        vat_rate_basis_points=rate,
        vat_minor=vat.included(total_minor, rate),
        payment_method=payment_method,
        issued_at=issued_at,
        key_id=signing.key_id(),
        signature="",
        seller_legal_name=None if seller is None else seller.legal_name,
        seller_bin=None if seller is None else seller.bin,
        seller_address=None if seller is None else seller.address,
    )
    receipt.signature = signing.sign(signed_payload(receipt))
    return repository.add(session, receipt)


def _with_validity(line: dict[str, Any], validity_ends_at: datetime | None) -> dict[str, Any]:
    # A plan's line records the validity end the sale gave the card (the card is issued its
    # receipt in the transaction that applied the plan), so the receipt keeps saying it
    # after later renewals move the card's validity on.
    if line.get("plan_code") is None or validity_ends_at is None:
        return line
    return {**line, "valid_until": validity_ends_at.astimezone(UTC).isoformat()}


def new_validity_end(receipt: Receipt) -> datetime | None:
    """The validity end the receipt's plan gave the card (``None`` for a top-up, or a
    receipt issued before receipts recorded it)."""
    for line in receipt.lines:
        if line.get("valid_until"):
            return datetime.fromisoformat(str(line["valid_until"]))
    return None


def signed_payload(receipt: Receipt) -> dict[str, Any]:
    """Everything the signature vouches for, from the stored columns. A frozen seller (a
    store receipt) is signed too; a receipt of the default seller has no ``seller`` key, so
    receipts signed before sellers were frozen still verify."""
    payload: dict[str, Any] = {
        "v": PAYLOAD_VERSION,
        "public_id": receipt.public_id,
        "number": receipt.number,
        "issued_at": receipt.issued_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "card": receipt.card_masked,
        "order_id": receipt.order_id,
        "currency": receipt.currency,
        "lines": receipt.lines,
        "total_minor": receipt.total_minor,
        "vat_rate_basis_points": receipt.vat_rate_basis_points,
        "vat_minor": receipt.vat_minor,
        "payment_method": receipt.payment_method,
    }
    if receipt.seller_legal_name is not None:
        payload["seller"] = {
            "legal_name": receipt.seller_legal_name,
            "bin": receipt.seller_bin,
            "address": receipt.seller_address,
        }
    return payload


def verification_url(receipt: Receipt) -> str:
    """The public page the receipt's QR code opens."""
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/verify/{receipt.public_id}?s={receipt.signature}"


def get(session: Session, public_id: str) -> Receipt | None:
    return repository.by_public_id(session, public_id) if len(public_id) <= 32 else None


def for_order(session: Session, order_id: int) -> Receipt | None:
    return repository.by_order(session, order_id)


def for_card(session: Session, card_id: int) -> list[Receipt]:
    return repository.for_card(session, card_id)


def plan_names(session: Session, receipt: Receipt) -> dict[str, dict[str, str]]:
    """The names, in every language, of the plans on ``receipt``'s lines, by code. A plan
    since removed from the catalog is left out: its line keeps the description it was issued
    with."""
    names: dict[str, dict[str, str]] = {}
    for code in {str(line["plan_code"]) for line in receipt.lines if line.get("plan_code")}:
        try:
            names[code] = dict(catalog_service.get_plan(session, code).names)
        except PlanNotFoundError:
            continue
    return names


@dataclass(frozen=True, slots=True)
class PaymentDetail:
    """How a receipt's order was paid, beyond the method: the attempt that paid it."""

    provider: str
    reference: str | None
    attempt: int
    paid_at: datetime | None


def payment_detail(session: Session, receipt: Receipt) -> PaymentDetail | None:
    """The payment attempt that paid the receipt's order (``None`` without an order, or
    when no attempt succeeded, e.g. a store sale)."""
    if receipt.order_id is None:
        return None
    paid = [
        attempt
        for attempt in payment_service.attempts(session, receipt.order_id)
        if attempt.state is PaymentState.succeeded
    ]
    if not paid:
        return None
    payment = paid[-1]
    return PaymentDetail(
        provider=payment.provider.value,
        reference=payment.provider_reference,
        attempt=payment.attempt,
        paid_at=payment.succeeded_at,
    )


def seller() -> Seller:
    """Who sells, as every receipt prints it (from the settings)."""
    settings = get_settings()
    return Seller(
        legal_name=settings.seller_legal_name,
        bin=settings.seller_bin,
        address=settings.seller_address,
    )


def seller_of(receipt: Receipt) -> Seller:
    """Who sold, as ``receipt`` prints it: its frozen seller, else the default seller."""
    if (
        receipt.seller_legal_name is None
        or receipt.seller_bin is None
        or receipt.seller_address is None
    ):
        return seller()
    return Seller(
        legal_name=receipt.seller_legal_name,
        bin=receipt.seller_bin,
        address=receipt.seller_address,
    )


def fiscal_registration(session: Session, receipt: Receipt) -> FiscalRegistration | None:
    """A store receipt's fiscal registration (``None`` for every other receipt)."""
    return repository.fiscal_registration(session, receipt.id)


@dataclass(frozen=True, slots=True)
class Seller:
    legal_name: str
    bin: str  # Kazakhstan's 12-digit business identification number
    address: str


@dataclass(frozen=True, slots=True)
class Verification:
    genuine: bool
    receipt: Receipt | None  # only when genuine


def verify(session: Session, public_id: str, signature: str | None) -> Verification:
    """Genuine only if a receipt with this id exists, was signed with one of our keys (the
    current one or a retired one), and the given signature matches what is stored now (a
    changed amount or a changed signature fails)."""
    receipt = get(session, public_id)
    if receipt is None or not signature:
        return Verification(genuine=False, receipt=None)
    if not signing.verify(signed_payload(receipt), signature, signed_by=receipt.key_id):
        return Verification(genuine=False, receipt=None)
    return Verification(genuine=True, receipt=receipt)
