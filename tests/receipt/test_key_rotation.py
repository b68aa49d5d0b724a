"""Rotating the receipt signing key: new receipts use the new key, older ones still verify,
and anyone can fetch the public keys to check receipts offline."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.fixtures.factories import create_card
from tests.receipt.test_service import _issue
from tulpar.cli import app
from tulpar.config import get_settings
from tulpar.receipt import service, signing

runner = CliRunner(env={"COLUMNS": "200"})


def _genuine(session: Session, receipt_id: str, signature: str) -> bool:
    return service.verify(session, receipt_id, signature).genuine


def test_receipts_from_before_and_after_a_rotation_both_verify(
    session: Session, tmp_path: Path
) -> None:
    card = create_card(session)
    before = _issue(session, card.id)

    old, new = signing.rotate()
    after = _issue(session, card.id)

    assert (before.key_id, after.key_id) == (old, new)
    assert old != new
    assert _genuine(session, before.public_id, before.signature)
    assert _genuine(session, after.public_id, after.signature)
    retired = tmp_path / signing.RETIRED_KEYS_DIR / f"{old}.pub"
    assert retired.exists()
    assert stat.S_IMODE((tmp_path / signing.KEY_FILE_NAME).stat().st_mode) == 0o600

    # Without the retired key in the keyring, the old receipt can no longer be vouched for.
    retired.unlink()
    assert not _genuine(session, before.public_id, before.signature)
    assert _genuine(session, after.public_id, after.signature)


def test_a_signature_swapped_between_receipts_or_made_by_a_stranger_never_verifies(
    session: Session,
) -> None:
    card = create_card(session)
    first = _issue(session, card.id)
    signing.rotate()
    second = _issue(session, card.id)
    payload = service.signed_payload(first)
    stranger = base64.urlsafe_b64encode(
        Ed25519PrivateKey.generate().sign(signing.canonical(payload))
    ).decode()

    assert not _genuine(session, first.public_id, second.signature)
    assert not _genuine(session, second.public_id, first.signature)
    assert not signing.verify(payload, stranger, signed_by=first.key_id)
    assert not signing.verify(payload, first.signature, signed_by="0" * 16)


def test_retired_keys_can_be_listed_in_the_settings_and_a_bad_entry_is_skipped(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = create_card(session)
    before = _issue(session, card.id)
    listed = signing.public_key_base64()
    signing.rotate()
    for retired in (tmp_path / signing.RETIRED_KEYS_DIR).iterdir():
        retired.unlink()  # a data dir that is not shared: the keys come from the settings
    assert not _genuine(session, before.public_id, before.signature)

    monkeypatch.setattr(get_settings(), "receipt_retired_public_keys", f"not-a-key, {listed} ,")
    assert _genuine(session, before.public_id, before.signature)


def test_a_configured_key_is_not_rotated_and_nothing_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = base64.urlsafe_b64encode(bytes(range(32))).decode()
    monkeypatch.setattr(get_settings(), "receipt_signing_key", seed)
    signing.signing_key.cache_clear()
    current = signing.key_id()

    result = runner.invoke(app, ["receipts", "rotate-key"])

    assert result.exit_code == 1
    assert "TULPAR_RECEIPT_SIGNING_KEY" in result.output
    assert signing.public_key_base64() in result.output.replace("\n", "")
    assert signing.key_id() == current
    assert list(tmp_path.iterdir()) == []


def test_the_command_rotates_and_the_keys_are_published(client: TestClient) -> None:
    first = signing.key_id()

    result = runner.invoke(app, ["receipts", "rotate-key"])

    assert result.exit_code == 0, result.output
    second = signing.key_id()
    assert f"retired key {first}; new receipts are signed with key {second}" in result.output
    published = client.get("/verify/keys").json()
    assert published["algorithm"] == "Ed25519"
    assert [(k["key_id"], k["current"]) for k in published["keys"]] == [
        (second, True),
        (first, False),
    ]
    assert published["keys"][0]["public_key"] == signing.public_key_base64()
