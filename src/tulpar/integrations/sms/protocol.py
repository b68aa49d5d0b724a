from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class SmsMessage:
    recipient: str  # E.164
    text: str
    # Ours, stable across retries: a provider that sees it twice sends once.
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    provider: str
    provider_message_id: str
    state: Literal["sent", "delivered"]
    # One id per concatenated part when the provider reports each part apart (SMPP: each
    # submit_sm has its own id and its own delivery receipt). Empty: one id for the message.
    part_message_ids: tuple[str, ...] = ()


class SmsProviderError(Exception):
    """The provider refused or could not be reached. ``permanent`` errors are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsProvider(Protocol):
    name: str

    def send(self, message: SmsMessage) -> SmsReceipt:
        """Submit one message. Must be idempotent on ``message.idempotency_key``."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A provider's word on a message it took: its id (as the provider spells it, always a
    string), the provider's status (SMPP ``DELIVRD``/``UNDELIV``…, Twilio ``delivered``…),
    the error code if any, and the raw fields."""

    provider: str
    message_id: str
    status: str
    error_code: str | None
    raw: dict[str, str]


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text a traveller sent to our number. ``provider_id`` is the provider's id for it
    when it has one (Twilio's MessageSid); SMPP deliver_sm carry none."""

    provider: str
    sender: str
    recipient: str
    text: str
    provider_id: str | None = None


# What a provider hands over for storing, from its own thread; raising means "not stored"
# (the provider then does not acknowledge it, so the sender delivers it again).
InboundSink = Callable[[DeliveryReport | InboundSms], None]
