"""Twilio's request signature (``X-Twilio-Signature``), for status callbacks and inbound
messages of the ``http`` provider: base64 of HMAC-SHA1, keyed with the auth token, over the
full URL Twilio requested followed by every POST parameter sorted by name, each as name then
value with nothing between. Compared in constant time.

The URL is the one *we configured* Twilio to call (our public URL), not what the request looks
like behind a proxy, so a terminating load balancer cannot make valid requests fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

SIGNATURE_HEADER = "X-Twilio-Signature"


def compute(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature Twilio sends for a POST of ``params`` (name/value pairs, repeats
    allowed) to ``url``."""
    signed = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _url_variants(url: str) -> list[str]:
    """The URL as given, without its port and with the scheme's default port: Twilio signs
    whichever form it used, as its own validator accepts."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    without_port = urlunsplit(parts._replace(netloc=host))
    default = _DEFAULT_PORTS.get(parts.scheme)
    variants = [url, without_port]
    if default is not None:
        variants.append(urlunsplit(parts._replace(netloc=f"{host}:{default}")))
    return list(dict.fromkeys(variants))


def is_valid(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str | None
) -> bool:
    """True when ``signature`` is Twilio's for this request."""
    if not signature or not auth_token:
        return False
    pairs = list(params)
    presented = signature.strip().encode()
    matches = [
        hmac.compare_digest(compute(auth_token, variant, pairs).encode(), presented)
        for variant in _url_variants(url)
    ]
    return any(matches)
