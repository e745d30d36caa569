"""The attack suite: schemathesis against the hub's own OpenAPI document, on each backend.

Every operation of the document is called with generated requests, valid ones (positive) and ones
that break the schema (negative), as a platform (Jiangsu, signing every state-changing body) and as
a regional operator (Shanghai, unsigned, as operators may). Each answer must not be a 5xx, must
have a status and a media type the document declares for the operation, and a body and headers
matching the declared schema; a request breaking the schema must be refused with a 4xx. The run
is bounded (a few examples per operation, mode and caller) and deterministic (derandomized), so CI
does not flake; every failure found is reported at once, one line per (operation, check).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.client import PlatformClient
from hub.client.platform_client import SIGNATURE_HEADER, STATE_CHANGING
from hub.settings import Settings

# per operation, generation mode and caller; PUHUI_ATTACK_EXAMPLES=50 runs a deeper search locally
EXAMPLES = int(os.environ.get("PUHUI_ATTACK_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,  # a request breaking the schema must be refused with a 4xx
]
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


class SignedAs(requests.auth.AuthBase):
    """The hook that authenticates every request schemathesis sends: the caller's access token,
    and for a platform a ``Puhui-Signature`` over the exact body bytes, for the method and path
    the request goes to (as the hub reads them: percent-decoded)."""

    def __init__(self, caller: PlatformClient, *, sign: bool) -> None:
        self.token = caller.access_token()
        self.caller = caller
        self.sign = sign

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        method = str(request.method)
        if self.sign and method in STATE_CHANGING:
            body = request.body or b""
            data = body.encode() if isinstance(body, str) else bytes(body)  # type: ignore[arg-type]
            path = unquote(urlsplit(str(request.url)).path)
            request.headers[SIGNATURE_HEADER] = self.caller.signature(method, path, data)
        return request


@dataclass
class Findings:
    """What the run found: one entry per (operation, check), with the first example of it."""

    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def record(self, operation: str, exc: BaseException) -> None:
        failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
        for failure in failures:
            title = getattr(failure, "title", type(failure).__name__)
            key = (operation, str(title))
            self.failures.setdefault(key, str(getattr(failure, "message", failure))[:600])

    def report(self) -> str:
        lines = [f"{op}: {check}\n    {detail}" for (op, check), detail in sorted(self.failures.items())]
        return f"{len(self.failures)} finding(s) in {self.calls} calls:\n" + "\n".join(lines)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """As the suite's settings, with a rate limit the fuzzer does not reach (429 is tested apart)."""
    return Settings(
        data_dir=tmp_path / "data",
        public_url="http://127.0.0.1:8000",
        webhook_worker=False,
        rate_limit_per_minute=1_000_000,
    )


@pytest.fixture
def callers(as_client: Callable[[str], PlatformClient]) -> dict[str, SignedAs]:
    return {
        "platform JS": SignedAs(as_client("js"), sign=True),
        "operator SH": SignedAs(as_client("operator-sh"), sign=False),
    }


def fuzz_operation(
    operation: schemathesis.APIOperation,
    mode: schemathesis.GenerationMode,
    session: requests.Session,
    findings: Findings,
) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: schemathesis.Case) -> None:
        findings.calls += 1
        try:
            response = case.call(session=session)
            findings.statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, AssertionError) as exc:
            findings.record(operation.label, exc)

    try:
        call()
    except Unsatisfiable:  # nothing to negate (an operation without parameters or body)
        assert mode is schemathesis.GenerationMode.NEGATIVE


def fuzz(schema: schemathesis.BaseSchema, session: requests.Session, findings: Findings) -> None:
    for result in schema.get_all_operations():
        for mode in MODES:
            fuzz_operation(result.ok(), mode, session, findings)


def test_no_5xx_and_only_documented_answers(client: TestClient, callers: dict[str, SignedAs]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    findings = Findings()
    started = time.monotonic()
    try:
        for auth in callers.values():
            with asgi.get_client(client.app) as session:
                session.auth = auth
                fuzz(schema, session, findings)
    finally:
        asgi.shutdown_lifespans()  # schemathesis keeps an app's lifespan running until told
    elapsed = time.monotonic() - started
    print(f"schemathesis: {findings.calls} calls in {elapsed:.1f} s, statuses {dict(findings.statuses)}")
    assert findings.calls > 500
    assert not findings.failures, findings.report()
