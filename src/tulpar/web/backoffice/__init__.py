"""The back office under ``/backoffice``: the operator's catalog, promotions, reports and
partner webhooks, on the staff sign-in and layout (tulpar.web.staff). Each part is its own
package with its templates and catalogues."""

from fastapi import APIRouter

from tulpar.web.backoffice import catalog, promotions, reports, webhooks

router = APIRouter()
router.include_router(catalog.router)
router.include_router(promotions.router)
router.include_router(reports.router)
router.include_router(webhooks.router)

__all__ = ["router"]
