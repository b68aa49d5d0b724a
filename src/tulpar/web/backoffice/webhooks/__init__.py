"""Back office: webhooks (admin pages on the staff layout)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

__all__ = ["router"]
