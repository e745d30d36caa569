"""A client generated from the hub's OpenAPI document (openapi-python-client, unchanged) runs the
README's tour against a served demo hub and gets typed answers: the operator's queue as
RecognitionPublic objects, the decision, the certificate as a RecognitionCertificate (the exchange
schema's own record type), which then verifies offline."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from hub.app import create_app
from hub.database import Database
from hub.settings import Settings
from tests.demo_hub import running_demo

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generated package's name, importable for the module's tests."""
    folder = tmp_path_factory.mktemp("generated")
    database = Database.from_url(f"sqlite:///{folder}/hub.sqlite3")
    try:
        document = create_app(Settings(data_dir=folder / "data"), database).openapi()
    finally:
        database.dispose()
    (folder / "openapi.json").write_text(json.dumps(document), "utf-8")
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    made = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(folder / "openapi.json"),
         "--output-path", str(folder / "client")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    sys.path.insert(0, str(folder / "client"))
    try:
        yield "puhui_hub_client"
    finally:
        sys.path.remove(str(folder / "client"))
        for name in [n for n in sys.modules if n.startswith("puhui_hub_client")]:
            del sys.modules[name]


def _module(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def _token(credentials: Path) -> str:
    """An access token by private_key_jwt, with authlib (what the generated client does not do)."""
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.oauth2.rfc7523 import PrivateKeyJWT
    from joserfc.jwk import OKPKey

    data = json.loads(credentials.read_text("utf-8"))
    with OAuth2Client(
        client_id=data["client_id"],
        client_secret=OKPKey.import_key(data["private_jwk"]),
        token_endpoint_auth_method=PrivateKeyJWT(data["token_endpoint"], alg="Ed25519"),
    ) as oauth:
        return str(oauth.fetch_token(data["token_endpoint"], grant_type="client_credentials")["access_token"])


def test_the_generated_client_runs_the_tour_with_typed_answers(generated: str, tmp_path: Path) -> None:
    client_module = _module(generated, "client")
    models = _module(generated, "models")
    listing = _module(generated, "api.recognition.recognition_listing")
    decide = _module(generated, "api.recognition.recognition_decide")
    certificate = _module(generated, "api.recognition.recognition_certificate")
    tree_head = _module(generated, "api.log.log_tree_head")
    with running_demo(tmp_path / "data") as demo:
        operator = client_module.AuthenticatedClient(
            base_url=demo.base, token=_token(demo.credentials / "operator-sh.json")
        )
        jiangsu = client_module.AuthenticatedClient(
            base_url=demo.base, token=_token(demo.credentials / "js.json")
        )
        pending = listing.sync(client=operator, status_filter="pending_review")
        assert pending and all(isinstance(item, models.RecognitionPublic) for item in pending)
        tour = next(item for item in pending if item.request_id == "RR-2026-0001")
        assert (tour.origin, tour.destination, tour.quantity) == ("JS", "SH", 120)
        body = models.Decision(decision=models.DecisionDecision.APPROVE, reason="meets the YRD rules")
        decided = decide.sync(client=operator, recognition_id=tour.id, body=body)
        assert isinstance(decided, models.RecognitionPublic)
        assert decided.status == models.RecognitionState.APPROVED
        answer = certificate.sync(client=jiangsu, recognition_id=tour.id)
        assert isinstance(answer, models.CertificatePublic)
        assert isinstance(answer.certificate, models.RecognitionCertificate)
        assert answer.certificate.converted_quantity == tour.converted_quantity
        refused = decide.sync_detailed(client=operator, recognition_id=tour.id, body=body)
        assert refused.status_code == 409 and isinstance(refused.parsed, models.Problem)
        head = tree_head.sync(client=jiangsu)
        assert isinstance(head, models.TreeHeadPublic) and head.tree_size > answer.certificate.log_index
        saved = tmp_path / "certificate.json"
        saved.write_text(json.dumps(answer.to_dict()), "utf-8")
        verified = subprocess.run(
            [sys.executable, "-m", "hub.cli.main", "certificates", "verify", str(saved),
             "--jwks", f"{demo.base}/.well-known/jwks.json"],
            capture_output=True, text=True, env=demo.env, timeout=120,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_every_operation_has_a_unique_readable_id(generated: str) -> None:
    """The generated client's functions are named after the route (tag and function)."""
    recognition = _module(generated, "api.recognition")
    names = {path.stem for path in Path(recognition.__file__).parent.glob("*.py")} - {"__init__"}
    assert names == {
        "recognition_certificate", "recognition_decide", "recognition_get",
        "recognition_listing", "recognition_submit", "recognition_withdraw",
    }  # fmt: skip
