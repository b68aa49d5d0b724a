"""Store receipts as the console shows them: only the store's own staff (and support, admin)
may open one — another store's receipt is "not found" (404), exactly as an unknown one.
They carry the store's legal details instead of the default seller, and the fiscal sign."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.counter import fiscal, repository
from tulpar.kit.i18n import translations
from tulpar.models import CounterSale, FiscalRegistration, Receipt, Store
from tulpar.receipt import documents
from tulpar.receipt import service as receipt_service


@dataclass(frozen=True, slots=True)
class StoreReceipt:
    receipt: Receipt
    sale: CounterSale
    store: Store
    registration: FiscalRegistration | None

    @property
    def seller(self) -> receipt_service.Seller:
        """As frozen on the receipt when it was issued (a later edit of the store changes
        no old receipt); a receipt issued before sellers were frozen: the store's now."""
        if self.receipt.seller_legal_name is not None:
            return receipt_service.seller_of(self.receipt)
        return seller_of(self.store)

    @property
    def fiscal(self) -> documents.Fiscal:
        shown = documents.Fiscal.of(self.registration)
        return shown or documents.Fiscal(sign=None, registration_number=None)


def seller_of(store: Store) -> receipt_service.Seller:
    """The store's legal details, as its receipts print them."""
    return receipt_service.Seller(
        legal_name=store.legal_name, bin=store.bin, address=f"{store.address}, {store.city}"
    )


def store_receipt(session: Session, caller: Caller, public_id: str) -> StoreReceipt:
    """A store receipt by its public id, for a caller of its store (or support, admin)."""
    roles.require(caller, "store.receipt")
    receipt = receipt_service.get(session, public_id)
    sale = (
        None
        if receipt is None or receipt.order_id is None
        else (repository.sale_for_order(session, receipt.order_id))
    )
    if receipt is None or sale is None:
        raise roles.NotFoundError()
    roles.ensure_same_store(caller, sale.store_id)
    store = repository.store(session, sale.store_id)
    assert store is not None
    return StoreReceipt(
        receipt=receipt, sale=sale, store=store, registration=fiscal.of_receipt(session, receipt)
    )


def pdf(session: Session, shown: StoreReceipt) -> bytes:
    """The receipt's PDF (the traveller's language) with the store's details and fiscal sign."""
    return documents.receipt_pdf(
        shown.receipt,
        shown.receipt.language,
        plan_names=receipt_service.plan_names(session, shown.receipt),
        seller=shown.seller,
        fiscal=shown.fiscal,
    )


def views(
    session: Session, shown: StoreReceipt, clerk_language: str
) -> tuple[documents.ReceiptView, documents.ReceiptView]:
    """The receipt in the traveller's language and in the clerk's (for bilingual lines)."""
    names = receipt_service.plan_names(session, shown.receipt)

    def one(language: str) -> documents.ReceiptView:
        return documents.view(
            shown.receipt, language, plan_names=names, seller=shown.seller, fiscal=shown.fiscal
        )

    return one(shown.receipt.language), one(clerk_language)


LABELS = (
    "Receipt number",
    "Date",
    "Card",
    "Order number",
    "Total",
    "Payment method",
    "New validity end",
    "Fiscal sign",
    "Cash register registration number",
    "Fiscal registration pending",
    "Scan to verify this receipt",
    "Authorised stores",
)


def labels(shown: documents.ReceiptView) -> dict[str, str]:
    """The receipt's labels in ``shown``'s language (the receipt catalogues)."""
    text = translations(documents.LOCALES, shown.language).gettext
    found = {key: text(key) for key in LABELS}
    found["vat"] = text("incl. VAT %(rate)s") % {"rate": shown.vat_rate}
    return found
