"""RFC 9457 problem details: the one mapping from failures to HTTP answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tulpar.errors import TulparError

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Stable codes of the HTTP-level refusals (413: kit.body_limit, raised while a body is read).
_HTTP_CODES = {404: "not_found", 413: "body_too_large"}


def problem(
    *, status: int, code: str, title: str, detail: str, instance: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"https://tulpar.kz/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status in (429, 503) and isinstance(extra.get("retry_after_seconds"), int):
        headers["Retry-After"] = str(extra["retry_after_seconds"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(TulparError)
    async def business_failure(request: Request, error: TulparError) -> JSONResponse:
        return problem(
            status=error.status,
            code=error.code,
            title=error.title,
            detail=error.detail,
            instance=request.url.path,
            **error.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
            for item in error.errors()
        ]
        return problem(
            status=422,
            code="invalid_request",
            title="Invalid request",
            detail="Some fields are missing or malformed",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(
            status=error.status_code,
            code=_HTTP_CODES.get(error.status_code, f"http_{error.status_code}"),
            title=str(error.detail),
            detail=str(error.detail),
            instance=request.url.path,
        )
