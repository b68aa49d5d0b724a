"""Defect 2: production took sandbox payments as real money. In production the sandbox
provider, its pay page and webhook, the /dev/* pages and every simulator are off and cannot be
turned on: a configuration that tries refuses to start, in one line naming the setting."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.payment.flow import seed
from tests.payment_safety.conftest import snapshot
from tulpar.app import create_app
from tulpar.cli import app as cli_app
from tulpar.config import UnsafeSettingsError, check_environment, get_settings
from tulpar.integrations import signature


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        (
            "sandbox_webhook_secret",
            "the-issue-s-secret-" + "x" * 20,
            "TULPAR_SANDBOX_WEBHOOK_SECRET",
        ),
        ("sandbox_payments", "true", "TULPAR_SANDBOX_PAYMENTS"),
        ("dev_pages", "true", "TULPAR_DEV_PAGES"),
        ("sms_provider", "outbox", "TULPAR_SMS_PROVIDER"),
        ("fiscal_provider", "simulator", "TULPAR_FISCAL_PROVIDER"),
        ("otp_secret", "change-me-otp-secret", "TULPAR_OTP_SECRET"),
        ("payment_link_secret", "short", "TULPAR_PAYMENT_LINK_SECRET"),
    ],
)
def test_production_with_a_simulator_or_a_placeholder_refuses_to_start(
    production: Callable[..., None], setting: str, value: str, named: str
) -> None:
    production(**{setting: value})

    with pytest.raises(UnsafeSettingsError) as refused:
        check_environment()
    with pytest.raises(UnsafeSettingsError):
        create_app()

    message = str(refused.value)
    assert named in message
    assert "\n" not in message


def test_the_safe_production_configuration_starts_and_the_sandbox_is_off(
    production: Callable[..., None],
) -> None:
    production()
    check_environment()
    settings = get_settings()
    assert not settings.sandbox_enabled
    assert not settings.dev_pages_enabled


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["carrier-sim"]])
def test_the_commands_refuse_in_one_line(
    production: Callable[..., None], command: list[str]
) -> None:
    production(sandbox_webhook_secret="set-for-the-demo-" + "y" * 20)
    if command == ["carrier-sim"]:
        production()  # safe settings: the simulator itself is what is refused

    result = CliRunner().invoke(cli_app, command)

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "production" in lines[0]


def test_a_sandbox_top_up_cannot_be_paid_in_production(
    committed: sessionmaker[Session],
    configure: Callable[..., None],
    production: Callable[..., None],
) -> None:
    """The issue's reproducer: a 500,000 KZT top-up paid on the sandbox page."""
    iccid, headers = seed(committed)
    with TestClient(create_app()) as development:
        placed = development.post(
            "/v1/orders",
            json={"card": iccid, "kind": "wallet_topup", "amount_minor": 500_000_00},
            headers={**headers, "Idempotency-Key": "top-up"},
        )
        assert placed.status_code == 201, placed.text
        page = "/pay/sandbox/" + placed.json()["payment"]["next_action"]["url"].rsplit("/", 1)[-1]
        production()
        before = snapshot(committed)

        # The app started before the switch refuses as well (the page checks each time).
        assert development.get(page).status_code == 404
        assert development.post(page, data={"decision": "pay"}).status_code == 404
    with TestClient(create_app()) as live:
        assert live.get(page).status_code == 404
        assert live.post(page, data={"decision": "pay"}).status_code == 404
        for path in ("/dev/outbox", "/dev/ussd"):
            assert live.get(path).status_code == 404
        again = live.post(
            "/v1/orders",
            json={
                "card": iccid,
                "kind": "wallet_topup",
                "amount_minor": 500_000_00,
                "payment_provider": "sandbox",
            },
            headers={**headers, "Idempotency-Key": "top-up-2"},
        )
        assert again.status_code == 422
        assert again.json()["code"] == "payment_provider_unavailable"

    assert snapshot(committed) == before


def test_a_signed_sandbox_webhook_is_refused_in_production(
    committed: sessionmaker[Session], production: Callable[..., None]
) -> None:
    secret = get_settings().sandbox_webhook_secret  # what a sender would sign with
    event = {
        "id": "evt_sbx_forged",
        "type": "payment.succeeded",
        "created": 0,
        "data": {"reference": "sbx_x", "metadata": {}},
    }
    body = json.dumps(event).encode()
    production()
    before = snapshot(committed)
    with TestClient(create_app()) as live:
        response = live.post(
            "/webhooks/sandbox",
            content=body,
            headers={"Sandbox-Signature": signature.sign(secret, body)},
        )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert snapshot(committed) == before
