"""The ``http`` provider, in the Twilio REST convention: ``POST {base}/2010-04-01/Accounts/
{sid}/Messages.json`` with a form of ``From``, ``To``, ``Body`` and ``StatusCallback``, HTTP
basic auth (account sid, auth token), explicit timeouts. The provider concatenates long texts
itself, so one message has one id (``sid``) and one status callback per status.

Idempotency: the Messages resource takes no idempotency key, so a request that reached the
provider but whose answer was lost (a read timeout) may be sent again on retry. We retry it
anyway — a duplicate confirmation is better than none — and only connection failures before
the request left are certain to be safe."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tulpar.integrations.sms.protocol import SmsMessage, SmsProviderError, SmsReceipt

MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass(frozen=True, slots=True)
class HttpSmsConfig:
    base_url: str
    account_sid: str
    auth_token: str
    sender: str
    status_callback_url: str
    timeout_seconds: float = 10.0


class HttpSmsProvider:
    name = "http"

    def __init__(self, config: HttpSmsConfig, *, transport: httpx.BaseTransport | None = None):
        self.config = config
        self._client = httpx.Client(
            base_url=config.base_url,
            auth=(config.account_sid, config.auth_token),
            timeout=httpx.Timeout(config.timeout_seconds, connect=min(config.timeout_seconds, 5)),
            transport=transport,
        )

    def send(self, message: SmsMessage) -> SmsReceipt:
        try:
            response = self._client.post(
                MESSAGES_PATH.format(sid=self.config.account_sid),
                data={
                    "From": self.config.sender,
                    "To": message.recipient,
                    "Body": message.text,
                    "StatusCallback": self.config.status_callback_url,
                },
            )
        except httpx.TimeoutException as error:
            raise SmsProviderError(f"SMS provider timed out: {error!r}") from error
        except httpx.HTTPError as error:
            raise SmsProviderError(f"SMS provider unreachable: {error!r}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise SmsProviderError(f"SMS provider busy: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise SmsProviderError(_refusal(response), permanent=True)
        try:
            sid = str(response.json()["sid"])
        except (ValueError, KeyError, TypeError) as error:
            raise SmsProviderError("SMS provider answered without a message sid") from error
        return SmsReceipt(provider=self.name, provider_message_id=sid, state="sent")

    def close(self) -> None:
        self._client.close()


def _refusal(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"SMS provider refused: HTTP {response.status_code} code {body.get('code')}: " + str(
            body.get("message")
        )
    except ValueError:
        return f"SMS provider refused: HTTP {response.status_code}"
