"""schemathesis against ``/openapi.json``, bounded (a few examples per operation): no answer
is a 500, every answer has a documented status, content type and schema, and every
operation documents its failures as problem JSON.

Only the API is fuzzed: ``/v1/*``, ``/webhooks/*`` and ``/carrier/*``, the machine-facing
surface the document is for. Pages (traveller, support and staff consoles) answer HTML and
are either left out of the document or outside these paths. Calls are made with a partner
key, so the authorised paths are reached as well as the refusals."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from tulpar.app import create_app
from tulpar.kit.problems import PROBLEM_MEDIA_TYPE

API_PATHS = r"^/(v1|webhooks|carrier)/"


def no_server_failure(
    ctx: object, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> None:
    """No 500 (nor any 5xx but the documented 503 of a provider or database that is not
    there, which says when to retry)."""
    status = response.status_code
    assert status < 500 or status == 503, f"{status} for {case.method} {case.path}"
    if status == 503:
        assert response.headers.get("content-type", [""])[0].startswith(PROBLEM_MEDIA_TYPE)


CHECKS = [
    no_server_failure,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The schema is read when this module is imported, before the test database exists: the app
# gets its sessions (the test's rolled-back transaction) from the fixture below.
APP = create_app(sessionmaker())
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path_regex=API_PATHS)


@pytest.fixture(autouse=True)
def _sessions(session_factory: sessionmaker[Session]) -> None:
    APP.state.sessionmaker = session_factory
    # read_only requests keep the reading factory made from the first test's: make it again.
    APP.state.reading_sessionmaker = None


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure shows its first case
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_documented_contract(
    case: schemathesis.Case[Any], partner_key: str
) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {partner_key}"}, checks=CHECKS)


def test_every_operation_documents_problem_json_for_its_failures() -> None:
    document = create_app().openapi()
    assert "Problem" in document["components"]["schemas"]
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 10
    for path, method, operation in operations:
        failures = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert {"4XX", "5XX"} <= set(failures), (method, path)
        for status, response in failures.items():
            content = response.get("content", {})
            assert PROBLEM_MEDIA_TYPE in content or path == "/readyz", (method, path, status)
    html_pages = [path for path, _, op in operations if "text/html" in str(op["responses"])]
    assert not [path for path in html_pages if path.startswith(("/v1/", "/webhooks/"))]
