"""Ed25519 signatures over a receipt's canonical payload.

The key comes from ``TULPAR_RECEIPT_SIGNING_KEY`` (base64 of the 32-byte seed) or is generated
once into ``<data_dir>/receipt-signing-key.pem`` (mode 0600) and reused.

Receipts must stay verifiable for years, across key changes: each stores the id of the key
that signed it, and verification looks that key up in a keyring — the current key, the
retired public keys in ``<data_dir>/receipt-keys/retired/<key id>.pub`` (written by
:func:`rotate`) and those listed in ``TULPAR_RECEIPT_RETIRED_PUBLIC_KEYS``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tulpar.config import get_settings

log = structlog.get_logger()

KEY_FILE_NAME = "receipt-signing-key.pem"
RETIRED_KEYS_DIR = Path("receipt-keys") / "retired"


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(path)
    key = Ed25519PrivateKey.generate()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(_private_pem(key))
    return key


def _load(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@lru_cache
def signing_key() -> Ed25519PrivateKey:
    settings = get_settings()
    if settings.receipt_signing_key:
        seed = base64.b64decode(settings.receipt_signing_key + "==", altchars=b"-_")
        return Ed25519PrivateKey.from_private_bytes(seed)
    return _load_or_create(settings.data_dir / KEY_FILE_NAME)


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _fingerprint(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id() -> str:
    """A short fingerprint of the public key, stored on each receipt."""
    return _fingerprint(signing_key().public_key())


def public_key_base64() -> str:
    return _b64(_raw(signing_key().public_key()))


def canonical(payload: dict[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes for the same receipt, always."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(payload: dict[str, Any]) -> str:
    return _b64(signing_key().sign(canonical(payload)))


def verify(payload: dict[str, Any], signature: str, *, signed_by: str) -> bool:
    """Whether ``signature`` over ``payload`` was made by the key with id ``signed_by``, one
    of the keyring's. An unknown key id never verifies."""
    public_key = keyring().get(signed_by)
    if public_key is None:
        return False
    try:
        public_key.verify(_unb64(signature), canonical(payload))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class PublishedKey:
    key_id: str
    public_key: str  # base64url of the raw 32 bytes
    current: bool


def keyring() -> dict[str, Ed25519PublicKey]:
    """Every key a receipt may have been signed with, by key id. Read afresh each time, so a
    rotation made by another process is seen without a restart. Key ids are computed from the
    keys themselves, never taken from file names or settings."""
    settings = get_settings()
    keys = [*_retired_from_files(settings.data_dir / RETIRED_KEYS_DIR), *_retired_from_setting()]
    key_file = settings.data_dir / KEY_FILE_NAME
    if not settings.receipt_signing_key and key_file.exists():
        keys.append(_load(key_file).public_key())  # current, maybe rotated by another process
    keys.append(signing_key().public_key())
    return {_fingerprint(public_key): public_key for public_key in keys}


def _retired_from_files(retired_dir: Path) -> list[Ed25519PublicKey]:
    """The keys ``rotate`` retired. One damaged file must not make every receipt page fail:
    it is skipped, and said; only the receipts of that key stop verifying."""
    keys: list[Ed25519PublicKey] = []
    for path in sorted(retired_dir.glob("*.pub")) if retired_dir.is_dir() else []:
        try:
            loaded = serialization.load_pem_public_key(path.read_bytes())
        except ValueError:
            loaded = None
        if not isinstance(loaded, Ed25519PublicKey):
            log.error("receipt.retired_key_unreadable", path=str(path))
            continue
        keys.append(loaded)
    return keys


def _retired_from_setting() -> list[Ed25519PublicKey]:
    """The keys listed in ``TULPAR_RECEIPT_RETIRED_PUBLIC_KEYS``, for deployments whose data
    dir is not shared. A mistyped entry is skipped, and said, like a damaged file."""
    keys: list[Ed25519PublicKey] = []
    listed = get_settings().receipt_retired_public_keys.split(",")
    for text in filter(None, (part.strip() for part in listed)):
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(_unb64(text)))
        except (ValueError, binascii.Error):
            log.error(
                "receipt.retired_key_unreadable", setting="TULPAR_RECEIPT_RETIRED_PUBLIC_KEYS"
            )
    return keys


def published_keys() -> list[PublishedKey]:
    """The keyring as anyone may see it, to check receipts offline."""
    current = key_id()
    return [
        PublishedKey(kid, _b64(_raw(public_key)), kid == current)
        for kid, public_key in sorted(keyring().items(), key=lambda item: item[0] != current)
    ]


class RotationRefusedError(Exception):
    """The key is configured, not generated: it is changed where it is configured."""


def rotate() -> tuple[str, str]:
    """Retire the generated signing key (its public part kept in the keyring) and generate a
    new one, replacing the key file atomically. Returns (old key id, new key id). Processes
    already running keep signing with the old key until restarted; receipts from either verify."""
    settings = get_settings()
    if settings.receipt_signing_key:
        raise RotationRefusedError(
            "The signing key comes from TULPAR_RECEIPT_SIGNING_KEY. Rotate it there, and add the"
            f" current public key {public_key_base64()} to TULPAR_RECEIPT_RETIRED_PUBLIC_KEYS"
            " so that receipts signed with it still verify."
        )
    old = signing_key()
    old_id = _fingerprint(old.public_key())
    retired_dir = settings.data_dir / RETIRED_KEYS_DIR
    retired_dir.mkdir(parents=True, exist_ok=True)
    retired_pem = old.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_atomically(retired_dir / f"{old_id}.pub", retired_pem, mode=0o644)
    new_pem = _private_pem(Ed25519PrivateKey.generate())
    _write_atomically(settings.data_dir / KEY_FILE_NAME, new_pem, mode=0o600)
    signing_key.cache_clear()
    return old_id, key_id()


def _write_atomically(path: Path, content: bytes, *, mode: int) -> None:
    """Written beside ``path`` with its final mode, then renamed over it: a reader sees the
    old file or the new one, never half of one."""
    temporary = path.with_name(path.name + ".tmp")
    # A temporary file left by an interrupted run would keep its own mode (O_CREAT does not
    # change it), so it is removed and the file created afresh with ``mode``.
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
