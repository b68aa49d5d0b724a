from __future__ import annotations

from pydantic import BaseModel


class CallbackAccepted(BaseModel):
    """The callback is stored (or was already): the carrier may stop retrying."""

    accepted: bool = True
    duplicate: bool
