"""Health, readiness, the schema index and documents, the hub's JWKS, OpenAPI."""

from __future__ import annotations

from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from schemas.jwk import thumbprint


def test_healthz_and_readyz_answer(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] in {"sqlite", "postgresql"}


def test_schema_index_lists_every_record_type_with_its_versioned_id(client: TestClient) -> None:
    index = client.get("/v1/schemas").json()
    names = {entry["name"] for entry in index}
    assert len(names) >= 13
    assert {"credit-block", "platform", "ruleset", "problem", "transfer"} <= names
    for entry in index:
        assert entry["version"] == "v1"
        assert entry["$id"] == f"https://schemas.puhui-hub.org/v1/{entry['name']}.json"
        document = client.get(f"/v1/schemas/{entry['name']}")
        assert document.status_code == 200
        assert document.headers["content-type"].startswith("application/schema+json")
        Draft202012Validator.check_schema(document.json())
        assert document.json()["$id"] == entry["$id"]


def test_unknown_schema_is_a_404_problem_with_code_1003(client: TestClient) -> None:
    response = client.get("/v1/schemas/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "1003"


def test_jwks_holds_an_ed25519_key_whose_kid_is_its_rfc7638_thumbprint(client: TestClient) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    for jwk in keys:
        assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
        assert "d" not in jwk
        assert jwk["kid"] == thumbprint(jwk)


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/schemas/{name}" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_index_links_to_the_entry_points(client: TestClient) -> None:
    links = client.get("/").json()["links"]
    assert links["jwks"].endswith("/.well-known/jwks.json")


def test_validate_endpoint_accepts_a_valid_record(client: TestClient) -> None:
    record = {"type": "about:blank", "title": "Not found", "status": 404}
    response = client.post("/v1/schemas/problem/validate", json=record)
    assert response.status_code == 200
    assert response.json()["valid"] is True
