"""Rotating the receipt signing key: new receipts use the new key, older ones still verify,
and anyone can fetch the public keys to check receipts offline."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text
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


def test_a_tampered_amount_on_a_receipt_of_a_retired_key_never_verifies(
    session: Session,
) -> None:
    receipt = _issue(session, create_card(session).id)
    signing.rotate()
    assert _genuine(session, receipt.public_id, receipt.signature)

    session.execute(
        text("UPDATE receipts SET total_minor = total_minor * 10 WHERE id = :id"),
        {"id": receipt.id},
    )
    session.expire_all()

    assert not _genuine(session, receipt.public_id, receipt.signature)


def test_after_a_rotation_an_older_receipts_pages_still_render_and_verify(
    client: TestClient, session: Session
) -> None:
    receipt = _issue(session, create_card(session).id)
    session.flush()
    signing.rotate()

    verify_page = client.get(f"/verify/{receipt.public_id}?s={receipt.signature}")
    html = client.get(f"/receipts/{receipt.public_id}")
    pdf = client.get(f"/receipts/{receipt.public_id}.pdf")

    assert verify_page.status_code == 200
    assert 'data-genuine="true"' in verify_page.text
    assert html.status_code == 200
    assert receipt.number in html.text
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_a_damaged_retired_key_file_is_skipped_and_other_receipts_still_verify(
    session: Session, tmp_path: Path
) -> None:
    card = create_card(session)
    first = _issue(session, card.id)
    signing.rotate()
    second = _issue(session, card.id)
    signing.rotate()
    retired_dir = tmp_path / signing.RETIRED_KEYS_DIR
    (retired_dir / f"{first.key_id}.pub").write_bytes(b"not a PEM file")

    assert not _genuine(session, first.public_id, first.signature)
    assert _genuine(session, second.public_id, second.signature)
    assert [key.key_id for key in signing.published_keys()][1:] == [second.key_id]


def test_a_leftover_temporary_file_does_not_loosen_the_new_key_files_mode(
    tmp_path: Path,
) -> None:
    signing.key_id()  # the key file exists, as it would after the first receipt
    leftover = tmp_path / f"{signing.KEY_FILE_NAME}.tmp"
    leftover.write_bytes(b"from an interrupted rotation")
    leftover.chmod(0o644)

    signing.rotate()

    assert stat.S_IMODE((tmp_path / signing.KEY_FILE_NAME).stat().st_mode) == 0o600
    assert not leftover.exists()


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


def test_a_configured_key_is_not_rotated_even_when_a_key_file_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing.key_id()  # a key file generated before the key was configured
    key_file = tmp_path / signing.KEY_FILE_NAME
    before = key_file.read_bytes()
    seed = base64.urlsafe_b64encode(bytes(range(32))).decode()
    monkeypatch.setattr(get_settings(), "receipt_signing_key", seed)
    signing.signing_key.cache_clear()

    result = runner.invoke(app, ["receipts", "rotate-key"])

    assert result.exit_code == 1
    assert key_file.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [signing.KEY_FILE_NAME]


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
