"""Which URLs may receive webhooks: https only in production (never a loopback, private or
link-local address written as such); outside production plain http too, but to loopback
only (a partner's receiver on the developer's machine)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from tulpar.errors import InvalidInputError

MAX_URL_LENGTH = 2000
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class WebhookUrlInvalidError(InvalidInputError):
    code = "webhook_url_invalid"
    title = "This URL cannot receive webhooks"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    address = _address(host)
    if address is not None:
        return address.is_loopback
    return host.lower().rstrip(".") in _LOOPBACK_NAMES


def validate(url: str, *, production: bool) -> str:
    """``url`` as it will be called, or :class:`WebhookUrlInvalidError` saying why not."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or not url.isprintable() or " " in url:
        raise WebhookUrlInvalidError(f"Give an absolute URL of at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as error:
        raise WebhookUrlInvalidError("This is not a valid URL") from error
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookUrlInvalidError("The URL must start with https:// and name a host")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlInvalidError("Credentials in the URL are not accepted; verify signatures")
    if parts.fragment:
        raise WebhookUrlInvalidError("The URL must not have a #fragment")
    if production:
        if parts.scheme != "https":
            raise WebhookUrlInvalidError("Webhook URLs must use https")
        address = _address(host)
        if is_loopback(host) or (
            address is not None
            and (address.is_private or address.is_link_local or address.is_reserved)
        ):
            raise WebhookUrlInvalidError("Webhook URLs must reach a public host")
    elif parts.scheme == "http" and not is_loopback(host):
        raise WebhookUrlInvalidError("Plain http is accepted only to loopback (127.0.0.1, ::1)")
    return url
