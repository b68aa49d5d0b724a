"""Tables, one module per aggregate. Importing this package registers them all."""

from tulpar.models.base import Base
from tulpar.models.bundle import Bundle, BundleState
from tulpar.models.card import LANGUAGES, Card, CardState
from tulpar.models.ledger import LedgerAccount, LedgerCause, LedgerEntry
from tulpar.models.partner import ApiKey, Partner
from tulpar.models.plan import Channel, Plan, PlanPrice, RenewalPolicy
from tulpar.models.wallet import Wallet

__all__ = [
    "LANGUAGES",
    "ApiKey",
    "Base",
    "Bundle",
    "BundleState",
    "Card",
    "CardState",
    "Channel",
    "LedgerAccount",
    "LedgerCause",
    "LedgerEntry",
    "Partner",
    "Plan",
    "PlanPrice",
    "RenewalPolicy",
    "Wallet",
]
