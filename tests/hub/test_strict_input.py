"""Strict input at the edge, one test per class of bad input, each on SQLite and on PostgreSQL:
the same 4xx problem (status, check code, JSON pointer) on both, and nothing changed — the log's
tree size, the platform's blocks and its receipts of signed requests are as before.

Every body below is sent as raw bytes (signed over those bytes when the route wants a signature),
since the point is what a non-Python client may put on the wire."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hub.client import PlatformClient
from schemas import validate
from schemas.strict_json import MAX_DEPTH
from tests.hub.conftest import RECORDS_FORM, example

PROBLEM = "application/problem+json"
JSON = "application/json"
BLOCK = "JS-B-2025-000001"


# -- sending and judging --------------------------------------------------------------------------


def _send(
    platform: PlatformClient, path: str, body: bytes, content_type: str = JSON, method: str = "POST"
) -> httpx.Response:
    """``body`` exactly as given, with the platform's token and its signature over those bytes."""
    headers = {
        "Authorization": f"Bearer {platform.access_token()}",
        "Content-Type": content_type,
        "Puhui-Signature": platform.signature(method, path, body),
        "Idempotency-Key": "strict-input-test",
    }
    return platform.http.request(method, path, content=body, headers=headers)


def _refused(response: httpx.Response, status: int, code: str, pointer: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert validate("problem", body) == []
    assert body["code"] == code, body
    assert any(e.get("pointer") == pointer and e["code"] == code for e in body["errors"]), body
    return body


def _state(client: TestClient, platform: PlatformClient) -> tuple[int, list[dict], int]:
    """What a refused request must leave as it was: the log, the holdings, the receipts."""
    size = client.get("/v1/log/tree-head").json()["tree_size"]
    return size, platform.get("/v1/blocks"), len(platform.get("/v1/receipts", limit=500))


def _dumps(document: Any) -> bytes:
    """JSON text as a careful client writes it (non-ASCII and lone surrogates as \\u escapes)."""
    return json.dumps(document, ensure_ascii=True).encode("ascii")


def _with_number(document: dict, path: tuple[str | int, ...], literal: str) -> bytes:
    """``document`` with the number at ``path`` written as ``literal`` (e.g. 10.0, 1e1)."""
    marked = copy.deepcopy(document)
    node: Any = marked
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = "@@NUMBER@@"
    return _dumps(marked).replace(b'"@@NUMBER@@"', literal.encode())


# -- well-formed bodies of every request family -----------------------------------------------------


def _new_block() -> dict:
    block = example("credit-block", "kunshan-pv-399kw")
    block.update({"block_id": "JS-B-2025-000002", "serial_start": 900001, "serial_end": 900010})
    block["quantity"] = 10
    return block


def _records() -> dict:
    return {"projects": [], "blocks": [_new_block()]}


def _retirement() -> dict:
    return {
        "retirement_id": "RT-STRICT-1",
        "registry": "JS",
        "blocks": [
            {"block_id": BLOCK, "namespace": "JS", "start": 100101, "end": 100150, "quantity": 50,
             "unit": "tCO2e"}
        ],
        "quantity": 50,
        "unit": "tCO2e",
        "purpose": {"kind": "voluntary-neutralization", "event": "demonstration: strict input"},
        "beneficiary": {"registry": "JS", "account_id": "JS-A-EVENT-1"},
    }  # fmt: skip


def _transfer() -> dict:
    return {
        "transfer_id": "TR-STRICT-1",
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-ENT-0042"},
        "blocks": [{"block_id": BLOCK, "namespace": "JS", "start": 100001, "end": 100010}],
    }


def _recognition() -> dict:
    return {
        "request": example("recognition-request", "kunshan-pv-for-shanghai-ets"),
        "verified_emissions": 20000,
    }


def _selection() -> dict:
    return {
        "request": example("recognition-request", "kunshan-pv-for-shanghai-ets"),
        "select": {"quantity": 10},
    }


def _reconciliation() -> dict:
    block = {
        "block_id": BLOCK,
        "serial_start": 100001,
        "serial_end": 100350,
        "quantity": 350,
        "status": "held",
    }
    return {"totals": {"blocks": 1, "tonnes": 350}, "blocks": [block]}


# (name, method, path, body, path to a text member inside it)
TEXT_FAMILIES: list[tuple[str, str, str, Any, tuple[str | int, ...]]] = [
    ("exchange-form ingest", "POST", "/v1/platforms/JS/batches", _records,
     ("blocks", 0, "holder", "account_id")),
    ("dedup check", "POST", "/v1/dedup/check", _records, ("blocks", 0, "project", "project_id")),
    ("transfer", "POST", "/v1/transfers", _transfer, ("to_account", "account_id")),
    ("recognition request", "POST", "/v1/recognitions", _recognition, ("request", "note")),
    ("recognition decision", "POST", "/v1/recognitions/RC-1/decision",
     lambda: {"decision": "approve", "reason": "meets the rules"}, ("reason",)),
    ("retirement", "POST", "/v1/retirements", _retirement, ("purpose", "event")),
    ("pledge", "POST", f"/v1/blocks/{BLOCK}/pledge", lambda: {"reason": "loan agreement 42"}, ("reason",)),
    ("reconciliation", "POST", "/v1/reconciliations", _reconciliation, ("blocks", 0, "status")),
    ("platform keys", "PUT", "/v1/platforms/JS/jwks",
     lambda: {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "abc"}]}, ("keys", 0, "x")),
    ("webhook", "PUT", "/v1/platforms/JS/webhook", lambda: {"url": "https://js.example/hook"}, ("url",)),
    ("ruleset evaluation", "POST", "/v1/rulesets/evaluate",
     lambda: {"block": example("credit-block", "kunshan-pv-399kw"), "destination": "SH", "purpose": "x"},
     ("purpose",)),
    ("record validation", "POST", "/v1/schemas/credit-block/validate",
     lambda: example("credit-block", "kunshan-pv-399kw"), ("holder", "account_id")),
]  # fmt: skip


def _content_type(path: str) -> str:
    return RECORDS_FORM if path.endswith("/batches") else JSON


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join(f"/{part}" for part in path)


def _set(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return document


# -- the classes of bad input ---------------------------------------------------------------------


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000], ids=["just-too-deep", "beyond-the-parsers-stack"])
def test_deep_nesting_is_a_400_with_code_1047_on_ingest_dedup_check_and_model_routes(
    client: TestClient, jiangsu: PlatformClient, depth: int
) -> None:
    before = _state(client, jiangsu)
    # the root, blocks, the block and x's array are 4 levels: the 33rd is 29 arrays into x
    body = ('{"projects": [], "blocks": [{"x": ' + _nest(depth) + "}]}").encode()
    deep = "/blocks/0/x" + "/0" * (MAX_DEPTH - 3)
    for path in ["/v1/platforms/JS/batches", "/v1/dedup/check"]:
        _refused(_send(jiangsu, path, body, _content_type(path)), 400, "1047", deep)
    retirement = ('{"retirement_id": "RT-1", "purpose": {"kind": ' + _nest(depth) + "}}").encode()
    _refused(
        _send(jiangsu, "/v1/retirements", retirement), 400, "1047", "/purpose/kind" + "/0" * (MAX_DEPTH - 2)
    )
    at_limit = ('{"projects": [], "blocks": [{"x": ' + _nest(MAX_DEPTH - 3) + "}]}").encode()
    checked = _send(jiangsu, "/v1/dedup/check", at_limit, RECORDS_FORM)
    assert checked.status_code == 200, checked.text  # 32 levels are read (the record is then judged)
    assert _state(client, jiangsu) == before


def test_deep_nesting_in_a_local_json_format_is_refused_in_local_terms(client: TestClient, as_client) -> None:
    ccer = as_client("ccer")
    before = _state(client, ccer)
    body = ('{"x": ' + _nest(5000) + "}").encode()
    response = _send(ccer, "/v1/platforms/CCER/batches", body, JSON)
    problem = _refused(response, 422, "1047", "")
    assert problem["errors"][0]["field"] == "(JSON /x" + "/0" * (MAX_DEPTH - 1) + ")"
    assert _state(client, ccer) == before


def test_duplicate_member_names_are_a_400_with_code_1048_signed_or_not(
    client: TestClient, jiangsu: PlatformClient, as_client
) -> None:
    before = _state(client, jiangsu)
    # signed: the stored bytes would read differently to another parser (last one wins here)
    retirement = _dumps(_retirement())[:-1] + b', "quantity": 5}'
    _refused(_send(jiangsu, "/v1/retirements", retirement), 400, "1048", "/quantity")
    nested = _dumps(_retirement()).replace(b'"start": 100101', b'"start": 100101, "start": 100001')
    _refused(_send(jiangsu, "/v1/retirements", nested), 400, "1048", "/blocks/0/start")
    batch = _dumps(_records()).replace(b'"quantity": 10', b'"quantity": 10, "quantity": 1000')
    _refused(
        _send(jiangsu, "/v1/platforms/JS/batches", batch, RECORDS_FORM), 400, "1048", "/blocks/0/quantity"
    )
    transfer = _dumps(_transfer())[:-1] + b', "destination": "AH"}'
    _refused(_send(jiangsu, "/v1/transfers", transfer), 400, "1048", "/destination")
    # unsigned: a public route and an operator's
    record = b'{"block_id": "JS-B-1", "block_id": "JS-B-2"}'
    response = client.post(
        "/v1/schemas/credit-block/validate", content=record, headers={"content-type": JSON}
    )
    _refused(response, 400, "1048", "/block_id")
    operator = as_client("operator-sh")
    token = {"Authorization": f"Bearer {operator.access_token()}", "content-type": JSON}
    evaluation = b'{"destination": "SH", "destination": "JS", "purpose": "x", "block": {}}'
    _refused(
        client.post("/v1/rulesets/evaluate", content=evaluation, headers=token), 400, "1048", "/destination"
    )
    assert _state(client, jiangsu) == before


@pytest.mark.parametrize(
    ("encoding", "detail"),
    [
        ("utf-16", "UTF-16 or UTF-32"),
        ("utf-16-le", "UTF-16 or UTF-32"),
        ("utf-16-be", "UTF-16 or UTF-32"),
        ("utf-32", "UTF-16 or UTF-32"),
        ("utf-8-sig", "byte-order mark"),
        ("latin-1", "not UTF-8"),
    ],
)
def test_a_body_not_in_utf8_is_a_400_with_code_1046(
    client: TestClient, jiangsu: PlatformClient, encoding: str, detail: str
) -> None:
    before = _state(client, jiangsu)
    retirement = _retirement()
    retirement["purpose"]["event"] = "démonstration"  # one non-ASCII character: latin-1 is not UTF-8
    records = _records()
    records["blocks"][0]["emission_factor"]["source"] = "Jiangsu grid factor (é)"
    for path, document in [("/v1/retirements", retirement), ("/v1/platforms/JS/batches", records)]:
        body = json.dumps(document, ensure_ascii=False).encode(encoding)
        problem = _refused(_send(jiangsu, path, body, _content_type(path)), 400, "1046", "")
        assert detail in problem["detail"]
    assert _state(client, jiangsu) == before


@pytest.mark.parametrize(
    ("character", "name"),
    [("\x00", "NUL"), (chr(0xD800), "surrogate"), (chr(0xDFFF), "surrogate")],
    ids=["nul", "high-surrogate", "low-surrogate"],
)
def test_nul_and_lone_surrogates_in_a_text_field_of_every_request_family_are_a_400_with_code_1049(
    client: TestClient, jiangsu: PlatformClient, character: str, name: str
) -> None:
    before = _state(client, jiangsu)
    for family, method, path, build, member in TEXT_FAMILIES:
        document = build()
        _set(document, member, f"JS{character}A")
        response = _send(jiangsu, path, _dumps(document), _content_type(path), method)
        problem = _refused(response, 400, "1049", _pointer(member))
        assert name in problem["detail"], family
    # a member name too, and a well-formed surrogate pair is text like any other
    renamed = _dumps(_retirement())[:-1] + b', "\\u0000": 1}'
    _refused(_send(jiangsu, "/v1/retirements", renamed), 400, "1049", "/\\u0000")
    assert _state(client, jiangsu) == before
    emoji = _set(_retirement(), ("purpose", "event"), "demonstration \U0001f333")
    assert _send(jiangsu, "/v1/retirements", _dumps(emoji)).status_code == 201


@pytest.mark.parametrize(
    "literal",
    ["10.0", "1e1", "1E+1", "10.5", "-0.0", "9007199254740993", "-" + "9" * 20, "9" * 5000],
    ids=["10.0", "1e1", "1E+1", "10.5", "-0.0", "2^53+1", "20-digits", "5000-digits"],
)
def test_a_quantity_that_is_not_a_json_integer_is_a_422_with_code_1002_everywhere(
    client: TestClient, jiangsu: PlatformClient, literal: str
) -> None:
    before = _state(client, jiangsu)
    cases = [
        ("/v1/platforms/JS/batches", _records(), ("blocks", 0, "quantity")),
        ("/v1/dedup/check", _records(), ("blocks", 0, "quantity")),
        ("/v1/retirements", _retirement(), ("quantity",)),
        ("/v1/retirements", _retirement(), ("blocks", 0, "quantity")),
        ("/v1/recognitions", _selection(), ("select", "quantity")),
        ("/v1/recognitions", _recognition(), ("request", "blocks", 0, "quantity")),
        ("/v1/transfers", _transfer(), ("blocks", 0, "start")),
        ("/v1/reconciliations", _reconciliation(), ("totals", "tonnes")),
    ]
    for path, document, member in cases:
        body = _with_number(document, member, literal)
        _refused(_send(jiangsu, path, body, _content_type(path)), 422, "1002", _pointer(member))
    assert _state(client, jiangsu) == before
    # the same bodies with the integer are read (and the retirement then done)
    assert (
        _send(jiangsu, "/v1/retirements", _with_number(_retirement(), ("quantity",), "50")).status_code == 201
    )


@pytest.mark.parametrize("part", ["path", "content-type"])
def test_a_signed_request_too_long_to_keep_as_received_is_a_400_with_code_1004(
    client: TestClient, jiangsu: PlatformClient, part: str
) -> None:
    """A signed request is kept exactly as received (``signed_request``: its path in 500
    characters, its content type in 200): one that does not fit is refused before anything is
    written — not a 500 from PostgreSQL's VARCHAR, nor a receipt SQLite would keep whole."""
    before = _state(client, jiangsu)
    if part == "path":
        response = _send(jiangsu, "/v1/recognitions/" + "R" * 500 + "/withdraw", b'{"reason": "not needed"}')
    else:
        long_type = f"{JSON}; profile={'p' * 200}"
        response = _send(jiangsu, f"/v1/blocks/{BLOCK}/pledge", b'{"reason": "collateral"}', long_type)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "1004"
    assert _state(client, jiangsu) == before
