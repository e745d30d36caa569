"""What the attack suite found, one named regression test each, and the OpenAPI error responses
it relies on (every route declares the problems it answers)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from hub.client import PlatformClient
from hub.client.errors import HubProblem
from hub.problems import PROBLEM_MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
OAUTH = {"/oauth/token", "/oauth/revoke", "/oauth/introspect"}


def operations(client: TestClient) -> list[tuple[str, str, dict]]:
    spec = client.get("/openapi.json").json()
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_route_declares_its_problem_responses(client: TestClient) -> None:
    found = operations(client)
    assert len(found) > 50
    for method, path, operation in found:
        responses = operation["responses"]
        errors = {status: r for status, r in responses.items() if status.startswith("4")}
        assert "400" in errors, f"{method} {path}"
        media = "application/json" if path in OAUTH else PROBLEM_MEDIA_TYPE
        for status, response in errors.items():
            schema = response["content"][media]["schema"]
            assert schema["$ref"].rsplit("/", 1)[1] in {"Problem", "OAuthError"}, f"{method} {path} {status}"


def test_authenticated_and_signed_routes_declare_auth_problems(client: TestClient) -> None:
    by_operation = {(method, path): op["responses"] for method, path, op in operations(client)}
    for key in [("GET", "/v1/blocks"), ("POST", "/v1/transfers"), ("GET", "/v1/events")]:
        assert {"401", "403", "429"} <= set(by_operation[key]), key
    assert {"401", "409", "413", "422"} <= set(by_operation[("POST", "/v1/transfers")])
    assert "401" not in by_operation[("GET", "/healthz")]
    assert "415" in by_operation[("POST", "/v1/platforms/{code}/batches")]


def test_problem_schema_describes_the_body_and_fastapi_default_422_is_gone(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert {"type", "title", "status"} <= set(schemas["Problem"]["required"])
    assert set(schemas["ProblemIssue"]["properties"]) >= {"pointer", "parameter", "in", "code", "detail"}
    transfers = spec["paths"]["/v1/transfers"]["post"]["responses"]["422"]
    assert transfers["content"][PROBLEM_MEDIA_TYPE]["schema"] == PROBLEM_REF


def test_problem_bodies_match_the_documented_model(client: TestClient) -> None:
    from hub.problems import Problem

    answered = client.get("/v1/blocks", params={"limit": "x"})
    assert answered.status_code == 401
    Problem.model_validate(answered.json())
    refused = client.get("/v1/log/entries", params={"start": "x"})
    assert refused.status_code == 400
    problem = Problem.model_validate(refused.json())
    assert problem.errors and problem.errors[0].in_ == "query"


def test_jwks_and_schema_documents_are_sent_as_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()["paths"]
    jwks = client.get("/.well-known/jwks.json")
    documented_jwks = spec["/.well-known/jwks.json"]["get"]["responses"]["200"]["content"]
    assert jwks.headers["content-type"] in documented_jwks
    name = client.get("/v1/schemas").json()[0]["name"]
    document = client.get(f"/v1/schemas/{name}")
    documented = spec["/v1/schemas/{name}"]["get"]["responses"]["200"]["content"]
    assert document.status_code == 200
    assert document.headers["content-type"] in documented


def test_ruleset_in_force_documents_its_404(client: TestClient) -> None:
    answered = client.get("/v1/rulesets/current", params={"origin": "SH", "destination": "ZZ"})
    assert answered.status_code == 404
    spec = client.get("/openapi.json").json()["paths"]
    assert "404" in spec["/v1/rulesets/current"]["get"]["responses"]


@pytest.mark.parametrize("written", ["0", "86400", "1700000000", "2024-1-1", "2024-01-01T00:00:00"])
def test_a_report_date_is_written_yyyy_mm_dd_not_epoch_seconds(
    as_client: Callable[[str], PlatformClient], written: str
) -> None:
    operator = as_client("operator-sh")
    with pytest.raises(HubProblem) as refused:
        operator.get("/v1/reports/flows", to=written)
    assert refused.value.status == 400
    assert refused.value.errors[0]["parameter"] == "to"
    assert operator.get("/v1/reports/flows", to="2024-01-31")["to"] == "2024-01-31"


def test_a_ruleset_date_is_written_yyyy_mm_dd_in_query_and_body(
    client: TestClient, as_client: Callable[[str], PlatformClient]
) -> None:
    answered = client.get("/v1/rulesets/current", params={"origin": "SH", "destination": "JS", "date": "0"})
    assert answered.status_code == 400
    assert answered.json()["errors"][0]["parameter"] == "date"
    evaluation = {"block": {}, "destination": "SH", "purpose": "x", "date": 86400}
    with pytest.raises(HubProblem) as refused:
        as_client("js").post("/v1/rulesets/evaluate", evaluation)
    assert refused.value.status == 422
    assert refused.value.errors[0]["pointer"] == "/date"
