"""The store console (/store): a clerk at the counter, often on a tablet."""

from tulpar.web.store.console import router

__all__ = ["router"]
