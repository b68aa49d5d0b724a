"""Driving the staff pages over HTTP: the forms' CSRF token, signing in."""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient
from httpx import Response

from tests.staff.conftest import PASSWORD

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(response: Response) -> str:
    found = _CSRF.search(response.text)
    assert found, response.text[:500]
    return found.group(1)


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, *, totp_secret: str | None = None
) -> Response:
    """Sign in through the forms (and the TOTP step when ``totp_secret``); returns the last
    response, not followed."""
    form = client.get("/staff/sign-in")
    response: Response = client.post(
        "/staff/sign-in",
        data={"username": username, "password": password, "csrf": csrf_of(form)},
        follow_redirects=False,
    )
    if totp_secret is None or response.status_code != 303:
        return response
    step = client.get("/staff/second-factor")
    answer: Response = client.post(
        "/staff/second-factor",
        data={"code": pyotp.TOTP(totp_secret).now(), "csrf": csrf_of(step)},
        follow_redirects=False,
    )
    return answer


def page_csrf(client: TestClient, path: str = "/staff/") -> str:
    return csrf_of(client.get(path))
