"""Staff sign-in pages, the staff layout and the session dependency the consoles share
(:mod:`tulpar.web.staff.session`: ``require_staff_page``, ``check_csrf``)."""

from fastapi import APIRouter

from tulpar.web.staff import admin, sign_in

router = APIRouter()
router.include_router(sign_in.router)
router.include_router(admin.router)

__all__ = ["router"]
