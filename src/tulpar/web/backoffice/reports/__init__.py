"""Back office: reports (admin and support pages on the staff layout)."""

from tulpar.web.backoffice.reports.pages import router

__all__ = ["router"]
