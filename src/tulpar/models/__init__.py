"""Tables, one module per aggregate. Importing this package registers them all."""

from tulpar.kit.languages import LANGUAGES
from tulpar.models import held as held  # cards and plans kept until their transaction ends
from tulpar.models import report_rollup as report_rollup  # the reports' rollup tables
from tulpar.models.base import Base
from tulpar.models.bundle import Bundle, BundleState
from tulpar.models.card import Card, CardState
from tulpar.models.counter import (
    CounterMethod,
    CounterSale,
    DayClose,
    DayCloseState,
    FiscalRegistration,
    FiscalState,
)
from tulpar.models.idempotency import IdempotencyKey
from tulpar.models.inbox import InboxMessage
from tulpar.models.ledger import LedgerAccount, LedgerCause, LedgerEntry
from tulpar.models.notification import Notification, NotificationState
from tulpar.models.order import Order, OrderEvent, OrderKind, OrderState
from tulpar.models.otp import OtpChallenge, TravellerToken
from tulpar.models.partner import ApiKey, Partner
from tulpar.models.partner_webhook import (
    WEBHOOK_EVENT_TYPES,
    PartnerWebhookAttempt,
    PartnerWebhookDelivery,
    PartnerWebhookEndpoint,
    PartnerWebhookEvent,
    WebhookDeliveryState,
)
from tulpar.models.payment import (
    Payment,
    PaymentProviderName,
    PaymentState,
    Refund,
    RefundState,
    SandboxCharge,
    SandboxDecision,
)
from tulpar.models.plan import Channel, Plan, PlanPrice, RenewalPolicy
from tulpar.models.promotion import (
    DiscountKind,
    Promotion,
    PromotionRedemption,
    RedemptionState,
)
from tulpar.models.provisioning import (
    CarrierCall,
    Provisioning,
    ProvisioningAttempt,
    ProvisioningState,
)
from tulpar.models.receipt import Receipt, ReceiptCounter
from tulpar.models.staff import (
    AuditEntry,
    StaffRole,
    StaffSession,
    StaffUser,
    Store,
)
from tulpar.models.ticket import Ticket, TicketEntry, TicketEntryKind, TicketKind, TicketStatus
from tulpar.models.usage import (
    ServiceBar,
    UsageKind,
    UsageOverage,
    UsageRecord,
    UsageThresholdEvent,
)
from tulpar.models.ussd import UssdSession
from tulpar.models.wallet import Wallet

__all__ = [
    "LANGUAGES",
    "WEBHOOK_EVENT_TYPES",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Bundle",
    "BundleState",
    "Card",
    "CardState",
    "CarrierCall",
    "Channel",
    "CounterMethod",
    "CounterSale",
    "DayClose",
    "DayCloseState",
    "DiscountKind",
    "FiscalRegistration",
    "FiscalState",
    "IdempotencyKey",
    "InboxMessage",
    "LedgerAccount",
    "LedgerCause",
    "LedgerEntry",
    "Notification",
    "NotificationState",
    "Order",
    "OrderEvent",
    "OrderKind",
    "OrderState",
    "OtpChallenge",
    "Partner",
    "PartnerWebhookAttempt",
    "PartnerWebhookDelivery",
    "PartnerWebhookEndpoint",
    "PartnerWebhookEvent",
    "Payment",
    "PaymentProviderName",
    "PaymentState",
    "Plan",
    "PlanPrice",
    "Promotion",
    "PromotionRedemption",
    "Provisioning",
    "ProvisioningAttempt",
    "ProvisioningState",
    "Receipt",
    "ReceiptCounter",
    "RedemptionState",
    "Refund",
    "RefundState",
    "RenewalPolicy",
    "SandboxCharge",
    "SandboxDecision",
    "ServiceBar",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "Store",
    "Ticket",
    "TicketEntry",
    "TicketEntryKind",
    "TicketKind",
    "TicketStatus",
    "TravellerToken",
    "UsageKind",
    "UsageOverage",
    "UsageRecord",
    "UsageThresholdEvent",
    "UssdSession",
    "Wallet",
    "WebhookDeliveryState",
]
