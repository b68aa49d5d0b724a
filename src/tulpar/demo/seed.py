"""Demo data: catalog, a demo partner and cards in every interesting state. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.bundle import lifecycle
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import DATA
from tulpar.card import service as card_service
from tulpar.catalog import service as catalog_service
from tulpar.catalog.service import PlanDefinition
from tulpar.demo.catalog import DEMO_PLANS
from tulpar.errors import CardNotFoundError, TulparError
from tulpar.identifiers import Iccid, Msisdn, luhn_check_digit
from tulpar.models import Card, LedgerCause
from tulpar.money import Money
from tulpar.partner import service as partner_service
from tulpar.wallet import service as wallet_service

DEMO_PARTNER = "Demo Partner"
DEMO_ACTOR = "demo-seed"


def demo_iccid(serial: int) -> str:
    """89 997 01 + serial, with a valid Luhn digit: a Kazakh-looking 19-digit ICCID."""
    payload = f"8999701{serial:011d}"
    return payload + luhn_check_digit(payload)


@dataclass(frozen=True)
class DemoCard:
    label: str
    serial: int
    msisdn: str
    language: str
    plan_code: str | None
    applied_days_ago: float
    data_used_fraction: float = 0.0
    wallet_kzt_minor: int = 0

    @property
    def iccid(self) -> str:
        return demo_iccid(self.serial)


DEMO_CARDS = (
    DemoCard("active", 1, "+77011000001", "zh-Hans", "KZ-15D-10GB", 3, 0.35, 5_000_00),
    DemoCard("expiring within 24 h", 2, "+77011000002", "zh-Hans", "KZ-7D-5GB", 6.3, 0.6, 1_000_00),
    DemoCard("data exhausted", 3, "+77011000003", "ru", "KZ-7D-5GB", 2, 1.0, 20_000_00),
    DemoCard("expired, in grace period", 4, "+77011000004", "zh-Hans", "KZ-7D-5GB", 12),
    DemoCard("new (no plan yet)", 5, "+77011000005", "en", None, 0),
    DemoCard("terminated (grace over)", 6, "+77011000006", "kk", "KZ-7D-5GB", 50),
)


def expiring_demo_card() -> DemoCard:
    """The card the traveller pages are best tried with: its plan ends within a day."""
    return next(demo for demo in DEMO_CARDS if demo.label.startswith("expiring"))


def seed(session: Session) -> list[tuple[DemoCard, Card]]:
    for definition in DEMO_PLANS:
        _ensure_plan(session, definition)
    cards = [(demo, _ensure_card(session, demo)) for demo in DEMO_CARDS]
    lifecycle.run(session, now=clock.now())
    return cards


def _ensure_plan(session: Session, definition: PlanDefinition) -> None:
    plan, created = catalog_service.ensure_plan(session, definition)
    if created:
        return
    # A database seeded by an earlier version keeps its plans (orders and bundles point at
    # them), so their renewal terms and names are brought up to the current definition.
    plan.names = definition.names
    plan.renewal_policy = definition.renewal_policy
    plan.rollover = definition.rollover
    session.flush()


def _ensure_card(session: Session, demo: DemoCard) -> Card:
    try:
        return card_service.find(session, Iccid.parse(demo.iccid))
    except CardNotFoundError:
        pass
    card = card_service.register(
        session,
        card_service.NewCard(
            iccid=Iccid.parse(demo.iccid), msisdn=Msisdn.parse(demo.msisdn), language=demo.language
        ),
    )
    if demo.wallet_kzt_minor:
        wallet_service.move(
            session,
            card_id=card.id,
            amount=Money(demo.wallet_kzt_minor, "KZT"),
            cause=LedgerCause.manual_credit,
            actor=DEMO_ACTOR,
            reason="demo opening balance",
        )
    if demo.plan_code is not None:
        plan = catalog_service.get_plan(session, demo.plan_code)
        applied_at = clock.now() - timedelta(days=demo.applied_days_ago)
        with clock.frozen(applied_at):
            bundle = bundle_service.apply_plan(
                session,
                card,
                plan,
                cause=LedgerCause.manual_credit,
                actor=DEMO_ACTOR,
                reason="demo scenario",
            )
            if demo.data_used_fraction and bundle.data_bytes_granted:
                used = int(bundle.data_bytes_granted * demo.data_used_fraction)
                bundle_service.adjust(
                    session,
                    bundle,
                    DATA,
                    delta=-used,
                    cause=LedgerCause.usage,
                    actor=DEMO_ACTOR,
                    reason="demo usage",
                )
    return card


def demo_partner_key(session: Session, key_file: Path) -> str:
    """The demo partner's key, kept in the data dir so reruns print the same working key.
    The demo partner sold the demo cards (after :func:`seed`): only it may read and renew
    them."""
    key = persisted_key(session, key_file, partner=DEMO_PARTNER, scope="partner")
    partner_service.assign_cards(session, DEMO_PARTNER, [demo.iccid for demo in DEMO_CARDS])
    return key


def persisted_key(session: Session, key_file: Path, *, partner: str, scope: str) -> str:
    """An API key kept in ``key_file``: reused while it still works, else issued anew."""
    if key_file.exists():
        key = key_file.read_text().strip()
        try:
            partner_service.authenticate(session, key, scope=scope)
            return key
        except TulparError:
            pass
    _, key = partner_service.create_key(session, partner, scopes=[scope])
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key
