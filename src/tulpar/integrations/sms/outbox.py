"""The development provider: the ``notifications`` table already holds every message, so
"sending" only stamps it delivered; ``/dev/outbox`` shows them."""

from __future__ import annotations

from tulpar.integrations.sms.protocol import SmsMessage, SmsReceipt


class OutboxProvider:
    name = "outbox"

    def send(self, message: SmsMessage) -> SmsReceipt:
        # Deterministic id: a retried send yields the same message, never a second one.
        return SmsReceipt(
            provider=self.name,
            provider_message_id=f"outbox-{message.idempotency_key}",
            state="delivered",
        )
