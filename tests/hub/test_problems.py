"""Every error is RFC 9457 problem details; bad input is a 4xx, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from schemas import validate

PROBLEM = "application/problem+json"
URL = "/v1/schemas/credit-block/validate"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert validate("problem", body) == []
    assert body["status"] == status
    return body


def test_malformed_json_body_is_a_400_with_code_1001(client: TestClient) -> None:
    response = client.post(URL, content=b'{"serial_start": ', headers={"content-type": "application/json"})
    body = _problem(response, 400)
    assert body["code"] == "1001"


def test_schema_violations_are_a_422_with_one_pointer_each(client: TestClient) -> None:
    body = _problem(client.post(URL, json={"serial_start": "one", "status": "sold"}), 422)
    pointers = {error["pointer"] for error in body["errors"]}
    assert {"/serial_start", "/status", "/holder", "/block_id"} <= pointers
    assert all(error["code"] == "1002" for error in body["errors"])


def test_invariant_failures_carry_their_own_check_code(client: TestClient) -> None:
    record = {
        "block_id": "JS-B-1", "origin_registry": "JS", "current_registry": "JS",
        "serial_namespace": "JS", "serial_start": 1, "serial_end": 10, "quantity": 9,
        "unit": "tCO2e", "vintage": 2025,
        "methodology": {
            "catalogue_id": "AFFORESTATION", "local_code": "CCER-14-001-V01", "version": "V01"
        },
        "project": {"registry": "JS", "project_id": "P1"},
        "holder": {"registry": "JS", "account_id": "A1"}, "status": "held",
    }  # fmt: skip
    body = _problem(client.post(URL, json=record), 422)
    assert body["code"] == "3002"
    assert body["errors"] == [
        {
            "pointer": "/quantity",
            "code": "3002",
            "detail": "quantity 9 is not serial_end - serial_start + 1 = 10",
        }
    ]


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = _problem(client.get("/v1/nothing-here"), 404)
    assert body["instance"] == "/v1/nothing-here"


@pytest.mark.parametrize(
    ("method", "path", "meant"),
    [("GET", "/v1/platforms/", "/v1/platforms"), ("POST", "/v1/transfers/", "/v1/transfers"),
     ("GET", "/console/recognitions/r-1/", "/console/recognitions/r-1"),
     ("DELETE", "/v1/operators/x/", "/v1/operators/x")],
)  # fmt: skip
def test_a_trailing_slash_is_a_404_problem_naming_the_path_meant(
    client: TestClient, method: str, path: str, meant: str
) -> None:
    """No bare 307: a redirected signed request would fail its signature's path check anyway."""
    answer = client.request(method, path, follow_redirects=False)
    assert answer.status_code == 404 and "location" not in answer.headers
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].endswith(f"the hub's paths have no trailing slash: {meant}")


def test_a_person_typing_the_console_with_a_slash_lands_on_it(client: TestClient) -> None:
    answer = client.get("/console/", follow_redirects=False)
    assert answer.status_code == 308 and answer.headers["location"] == "/console"


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    _problem(client.delete("/healthz"), 405)


def test_unknown_platform_is_a_404_problem_with_code_2002(client: TestClient, as_client) -> None:
    token = as_client("js").access_token()
    response = client.get("/v1/platforms/XX", headers={"Authorization": f"Bearer {token}"})
    assert _problem(response, 404)["code"] == "2002"


def test_non_json_body_is_a_4xx_problem(client: TestClient) -> None:
    response = client.post(URL, content=b"\xff\xfe not json", headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM


def test_an_unexpected_fault_is_a_500_problem_that_leaks_nothing(client: TestClient) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals")

    client.app.add_api_route("/explode", explode)  # type: ignore[attr-defined]
    body = _problem(client.get("/explode"), 500)
    assert "secret" not in str(body)
