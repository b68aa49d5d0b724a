"""``tulpar stores create`` and ``tulpar users create``: the first store and admin."""

from __future__ import annotations

import pyotp
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tulpar.cli import app
from tulpar.staff import service as staff_service
from tulpar.staff.service import SignInStep
from tulpar.store import service as store_service

runner = CliRunner(env={"COLUMNS": "200"})
STORE = [
    "stores", "create", "ala-01", "--name", "Tulpar Dostyk", "--city", "Almaty",
    "--address", "Dostyk Ave 5", "--hours", "09:00–21:00", "--legal-name", "Tulpar LLP",
    "--bin", "123456789012",
]  # fmt: skip


def test_first_store_admin_and_clerk(committed: sessionmaker[Session]) -> None:
    result = runner.invoke(app, STORE)
    assert result.exit_code == 0, result.output
    assert "ALA-01" in result.output
    assert "STORE-ALA01" in result.output

    result = runner.invoke(
        app, ["users", "create", "root", "--role", "admin", "--password-stdin"],
        input="a long admin password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    secret = result.output.split("shown at sign-in until first used):")[1].split()[0]
    assert "otpauth://totp/" in result.output

    result = runner.invoke(
        app, ["users", "create", "asel", "--role", "clerk", "--store", "ALA-01",
              "--password-stdin"], input="a long clerk password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    with committed() as session:
        signing_in = staff_service.sign_in(session, "root", "a long admin password")
        assert signing_in.step is SignInStep.enrol
        current = staff_service.signed_in(session, signing_in.token)
        assert current is not None
        assert staff_service.second_factor(session, current, pyotp.TOTP(secret).now())
        clerk = staff_service.sign_in(session, "asel", "a long clerk password")
        assert clerk.step is SignInStep.done
        clerk_store = staff_service.signed_in(session, clerk.token)
        assert clerk_store is not None
        assert clerk_store.caller.store_id == store_service.by_code(session, "ALA-01").id  # type: ignore[union-attr]


def test_a_clerk_needs_a_known_store(committed: sessionmaker[Session]) -> None:
    result = runner.invoke(
        app, ["users", "create", "asel", "--role", "clerk", "--store", "NOPE-01",
              "--password-stdin"], input="a long clerk password\n",
    )  # fmt: skip
    assert result.exit_code == 1
    result = runner.invoke(
        app, ["users", "create", "asel", "--role", "clerk", "--password-stdin"],
        input="a long clerk password\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "belongs to a store" in result.output
    with committed() as session:
        assert staff_service.sign_in(session, "asel", "a long clerk password").refused
