from __future__ import annotations

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
