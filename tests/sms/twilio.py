"""Requests as Twilio signs them, for the callback tests."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi.testclient import TestClient
from httpx import Response

from tulpar.integrations.sms.twilio_signature import SIGNATURE_HEADER, compute

AUTH_TOKEN = "twilio-test-auth-token"
PUBLIC_URL = "https://tulpar.example"


def post_signed(
    client: TestClient, path: str, form: dict[str, str], *, token: str = AUTH_TOKEN
) -> Response:
    signature = compute(token, PUBLIC_URL + path, form.items())
    response: Response = client.post(
        path,
        content=urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            SIGNATURE_HEADER: signature,
        },
    )
    return response
