"""The OpenAPI document, with problem JSON (RFC 9457) documented on every operation: each
answers its failures as ``application/problem+json`` (4XX and 5XX), including request
validation (422, which FastAPI would otherwise document in its own shape). Pages (HTML) are
left out of the document where they are declared."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tulpar.kit.problems import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, `detail` is for people.",
    "required": ["type", "title", "status", "detail", "code", "instance"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": _REF}}
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")


def with_problems(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path_item in document.get("paths", {}).values():
        for method in _METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if _is_failure(status) and (status == "422" or not response.get("content")):
                    response["content"] = dict(_PROBLEM_CONTENT)
            for status, description in (("4XX", "Client error"), ("5XX", "Server error")):
                responses.setdefault(
                    status, {"description": description, "content": dict(_PROBLEM_CONTENT)}
                )
    return document


def _is_failure(status: str) -> bool:
    return status[:1] in ("4", "5")


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the problem documentation (once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_problems(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                    webhooks=app.webhooks.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
