"""What every traveller page shares: the language (explicit switch, remembered, then the
browser's), rendering with the page's catalogue, the session and CSRF cookies, and the route
class that turns refusals into friendly pages in the traveller's language."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller, CallerKind
from tulpar.config import get_settings
from tulpar.errors import TulparError, UnauthorizedError
from tulpar.kit.credentials import SESSION_COOKIE
from tulpar.kit.languages import LANGUAGE_COOKIE, LANGUAGES, matching_language, resolve_language
from tulpar.kit.templates import page_environment
from tulpar.web.traveller import messages

TEMPLATES = Path(__file__).parent / "templates"
CSRF_COOKIE = "tulpar_csrf"
CSRF_FIELD = "csrf"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
# Private pages: never kept by a shared cache or shown again from the back/forward cache
# after signing out. No inline script or style anywhere, so the policy can be strict.
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SignInRequiredError(TulparError):
    """No valid traveller session: the page sends the traveller to the start page."""

    status = 401
    code = "sign_in_required"
    title = "Verify the card with an SMS code first"


class PageNotFoundError(TulparError):
    status = 404
    code = "page_not_found"
    title = "There is no such page"


class CsrfRejectedError(TulparError):
    status = 403
    code = "csrf_rejected"
    title = "This form has expired"


def language_of(request: Request) -> str:
    """``?lang=``, else the remembered choice (``tulpar_lang``), else ``Accept-Language``,
    else Simplified Chinese."""
    return resolve_language(
        request.query_params.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )


def secure_cookies(request: Request) -> bool:
    configured = get_settings().session_cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def set_session(response: Response, request: Request, token: str, *, max_age: int) -> None:
    _cookie(response, request, SESSION_COOKIE, token, max_age)


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    _cookie(response, request, name, value, max_age)


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (double submit: the cookie and a hidden form field)."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if len(existing) == 43 and existing.replace("-", "").replace("_", "").isalnum():
        return existing
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form that did not come from our own page: the hidden token must equal the
    cookie, and a browser that says where the form came from must say it was us."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise CsrfRejectedError()
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRejectedError()
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise CsrfRejectedError()


def traveller(session: Session, request: Request) -> Caller:
    """The traveller this browser proved to hold a card; :class:`SignInRequiredError`
    otherwise (no cookie, an expired or unknown token, or a partner key)."""
    try:
        caller = auth_service.identify(session, request.cookies.get(SESSION_COOKIE))
    except UnauthorizedError as error:
        raise SignInRequiredError() from error
    if caller.kind is not CallerKind.traveller or caller.card_id is None:
        raise SignInRequiredError()
    return caller


def signed_in(request: Request) -> bool:
    return bool(request.cookies.get(SESSION_COOKIE))


@dataclass(frozen=True, slots=True)
class LanguageLink:
    language: str
    url: str
    current: bool


def language_links(request: Request, language: str) -> list[LanguageLink]:
    """The same page in each language (the choice is remembered from then on)."""
    query = {key: value for key, value in request.query_params.items() if key != "lang"}
    return [
        LanguageLink(
            language=other,
            url=request.url.path + "?" + urlencode({**query, "lang": other}),
            current=other == language,
        )
        for other in LANGUAGES
    ]


def plan_name(names: Mapping[str, str] | None, language: str, code: str = "") -> str:
    """A plan's name in ``language`` (English, then its code, when it has none)."""
    names = names or {}
    return names.get(language) or names.get("en") or code


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` in the request's language, with the cookies it needs."""
    language = language_of(request)
    environment = page_environment(TEMPLATES, language)
    html = environment.get_template(template).render(
        request=request,
        csrf=csrf_token(request),
        csrf_field=CSRF_FIELD,
        languages=language_links(request, language),
        signed_in=signed_in(request),
        plan_name=lambda names, code="": plan_name(names, language, code),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers={**_HEADERS, **(headers or {})})
    finish(request, response)
    return response


def finish(request: Request, response: Response) -> None:
    """Remember an explicit language choice and hand out the CSRF cookie when it is new."""
    chosen = matching_language(request.query_params.get("lang"))
    if chosen is not None and chosen != request.cookies.get(LANGUAGE_COOKIE):
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_SECONDS,
            path="/",
            samesite="lax",
            secure=secure_cookies(request),
        )
    token = getattr(request.state, "csrf_token", None)
    if token is not None:
        _cookie(response, request, CSRF_COOKIE, token, LANGUAGE_COOKIE_SECONDS)


def redirect(request: Request, url: str) -> RedirectResponse:
    """303 to ``url`` (a POST answered with a GET), keeping the cookies this request set."""
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    finish(request, response)
    return response


def error_page(request: Request, error: TulparError) -> Response:
    if isinstance(error, SignInRequiredError):
        response = redirect(request, "/?" + urlencode({"ended": "1"}))
        if request.cookies.get(SESSION_COOKIE):
            clear_session(response, request)
        return response
    status = error.status if 400 <= error.status < 600 else 500
    return render(
        request,
        "error.html",
        status_code=status,
        message=messages.for_error(error, language_of(request)),
    )


class PageRoute(APIRoute):
    """A traveller page: a refusal (``TulparError``) becomes a page in the traveller's
    language with the refusal's status, never problem JSON; no session → the start page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except TulparError as error:
                return error_page(request, error)
            except RequestValidationError:
                # A mistyped address (``/orders/abc``) or a form no page of ours sends.
                return error_page(request, PageNotFoundError())

        return page_handler
