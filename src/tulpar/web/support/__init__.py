"""The support console (staff with the support or admin role): orders, cards, tickets."""

from tulpar.web.support.console import router

__all__ = ["router"]
