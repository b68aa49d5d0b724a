"""Ed25519 signatures over a receipt's canonical payload.

The key comes from ``TULPAR_RECEIPT_SIGNING_KEY`` (base64 of the 32-byte seed) or is generated
once into ``<data_dir>/receipt-signing-key.pem`` (mode 0600) and reused."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tulpar.config import get_settings

KEY_FILE_NAME = "receipt-signing-key.pem"


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key") from None
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


@lru_cache
def signing_key() -> Ed25519PrivateKey:
    settings = get_settings()
    if settings.receipt_signing_key:
        seed = base64.b64decode(settings.receipt_signing_key + "==", altchars=b"-_")
        return Ed25519PrivateKey.from_private_bytes(seed)
    return _load_or_create(settings.data_dir / KEY_FILE_NAME)


def _public_raw() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def key_id() -> str:
    """A short fingerprint of the public key, stored on each receipt."""
    return hashlib.sha256(_public_raw()).hexdigest()[:16]


def public_key_base64() -> str:
    return base64.urlsafe_b64encode(_public_raw()).decode().rstrip("=")


def canonical(payload: dict[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes for the same receipt, always."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(payload: dict[str, Any]) -> str:
    signature = signing_key().sign(canonical(payload))
    return base64.urlsafe_b64encode(signature).decode().rstrip("=")


def verify(payload: dict[str, Any], signature: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        signing_key().public_key().verify(raw, canonical(payload))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
