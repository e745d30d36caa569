"""`make run` end to end: `puhui demo up` migrates, seeds, serves; honours PUHUI_PORT/DATA_DIR."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jws
from joserfc.jwk import KeySet, OKPKey

from tests.demo_hub import running_demo


def test_demo_up_serves_the_seeded_hub(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub-data"
    with running_demo(data_dir) as hub:
        base = hub.base
        assert httpx.get(f"{base}/readyz").json()["database"] == "sqlite"
        assert (data_dir / "hub.sqlite3").exists()
        assert len(list((data_dir / "keys").glob("*.jwk.json"))) == 1
        _stock_oauth_client_round_trip(base, hub.credentials / "js.json")
        _platform_side_import_pull_sync_and_audit(base, data_dir, hub.env)
    output = hub.output[0]
    assert f"{base}/healthz" in output
    assert f"{base}/.well-known/jwks.json" in output
    assert "seeded demo federation: SH, JS, ZJ, AH, CCER" in output
    assert "recognitions approved 3, rejected 1" in output  # the seeded history (hub/demo/story.py)
    assert "TR-DEMO-0004 terminated" in output and "TR-DEMO-0001 completed" in output
    assert "personal activity counted once: 1 duplicate trip left out" in output
    console_password = json.loads((hub.credentials / "operator-sh.console.json").read_text())
    assert f"operator-sh password (shown once): {console_password['password']}" in output


def _stock_oauth_client_round_trip(base: str, credentials_file: Path) -> None:
    """authlib's own httpx client with private_key_jwt: token, introspection, revocation."""
    credentials = json.loads(credentials_file.read_text("utf-8"))
    token_endpoint = credentials["token_endpoint"]
    assert token_endpoint == f"{base}/oauth/token"
    auth = PrivateKeyJWT(token_endpoint, alg="EdDSA")
    with OAuth2Client(
        client_id=credentials["client_id"],
        client_secret=OKPKey.import_key(credentials["private_jwk"]),
        token_endpoint_auth_method=auth,
        revocation_endpoint_auth_method=auth,
    ) as oauth:
        token = oauth.fetch_token(token_endpoint, grant_type="client_credentials")
        access = token["access_token"]
        bearer = {"Authorization": f"Bearer {access}"}
        codes = [p["code"] for p in httpx.get(f"{base}/v1/platforms", headers=bearer).json()]
        assert codes == ["AH", "CCER", "JS", "SH", "ZJ"]
        assert oauth.introspect_token(f"{base}/oauth/introspect", access).json()["active"] is True
        assert oauth.revoke_token(f"{base}/oauth/revoke", access).status_code == 200
        assert oauth.introspect_token(f"{base}/oauth/introspect", access).json() == {"active": False}
    refused = httpx.get(f"{base}/v1/platforms", headers=bearer)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "1032"
    assert refused.headers["www-authenticate"].startswith('Bearer realm="puhui-hub"')


def _puhui(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: no library's warning reaches their terminal."""
    ran = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", *args],
        env={**env, "PYTHONWARNINGS": "default"},  # what a user's Python shows, made visible
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Warning" not in ran.stderr, ran.stderr
    return ran


def _platform_side_import_pull_sync_and_audit(base: str, data_dir: Path, env: dict[str, str]) -> None:
    """ZJ's personal records imported from the platform's side; JS pulled from its sandbox; then
    the whole log audited from outside."""
    from adapters.registry import get

    credentials = data_dir / "demo" / "credentials"
    daily = next(f for f in get("ZJ").fixtures() if f.good)
    next_day = data_dir / "daily-2024.ndjson"  # the demo holds the fixture's own days already
    next_day.write_bytes(daily.read().replace(b"2025", b"2024"))
    imported = _puhui(env, "import", "ZJ", str(next_day), "--credentials", str(credentials / "zj.json"))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "personal batches" in imported.stdout
    nothing = _puhui(env, "sync", "JS")
    assert nothing.returncode == 0, nothing.stdout + nothing.stderr
    assert "nothing new" in nothing.stdout  # the demo holds what the sandbox served so far
    credits = next(f for f in get("JS").fixtures() if f.good and "credits" in f.name)
    header, first = list(csv.reader(io.StringIO(credits.read().decode("gbk"))))[:2]
    quantity = int(first[8]) - int(first[7]) + 1
    first[0], first[7], first[8] = "JS-B-DEMO-0001", "7000001", str(7000000 + quantity)
    page = io.StringIO()
    csv.writer(page, lineterminator="\n").writerows([header, first])
    fresh = page.getvalue().encode("gbk")
    added = httpx.post(
        f"{base}/sandbox/js/_sandbox/issuances", content=fresh, headers={"content-type": credits.content_type}
    )
    assert added.status_code == 200, added.text
    synced = _puhui(env, "sync", "JS")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "JS: stored" in synced.stdout
    _approve_the_pending_recognition(base, credentials, env, data_dir)
    _traffic(base, env)
    audited = _puhui(env, "audit", "verify", "--hub", base)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "log verified" in audited.stdout


def _approve_the_pending_recognition(
    base: str, credentials: Path, env: dict[str, str], data_dir: Path
) -> None:
    """The README's tour: operator-sh approves the demo's recognition; the certificate verifies
    offline against the hub's JWKS; the same serials cannot be asked again."""
    from hub.client import PlatformClient, Refused

    with PlatformClient.from_credentials(credentials / "operator-sh.json", base_url=base) as operator:
        pending = operator.get("/v1/recognitions", status_filter="pending_review")
        assert [(r["origin"], r["converted_quantity"]) for r in pending] == [("JS", 84), ("AH", 40)]
        pending = pending[:1]
        decided = operator.post(
            f"/v1/recognitions/{pending[0]['id']}/decision",
            {"decision": "approve", "reason": "meets the YRD rules"},
        )
        assert decided["status"] == "approved"
    with PlatformClient.from_credentials(credentials / "js.json", base_url=base) as jiangsu:
        answer = jiangsu.get(f"/v1/recognitions/{pending[0]['id']}/certificate")
        again = {"request": {**pending[0]["request"], "request_id": "RR-AGAIN"}, "verified_emissions": 20000}
        with pytest.raises(Refused) as refused:
            jiangsu.post("/v1/recognitions", again)
        assert "3029" in [e["code"] for e in refused.value.errors]
    keys = KeySet.import_key_set(httpx.get(f"{base}/.well-known/jwks.json").json())
    signed = jws.deserialize_compact(answer["jws"], keys, algorithms=["Ed25519"])  # an independent library
    assert json.loads(signed.payload) == answer["certificate"]
    certificate = data_dir / "certificate.json"
    certificate.write_text(json.dumps(answer))
    verified = _puhui(
        env, "certificates", "verify", str(certificate), "--jwks", f"{base}/.well-known/jwks.json"
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "valid certificate" in verified.stdout


def _traffic(base: str, env: dict[str, str]) -> None:
    """`puhui demo traffic` against the served hub: a bounded run, no failure, a summary."""
    ran = _puhui(env, "demo", "traffic", "--rate", "15", "--for", "3s", "--seed", "2", "--hub", base)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "failures (5xx, unreachable): 0" in ran.stdout
    sent, most = re.search(r"(\d+) requests in [\d.]+ s \(at most (\d+) in any second\)", ran.stdout).groups()
    assert int(sent) > 5 and int(most) <= 15
    done = re.search(r"done: (.*)", ran.stdout).group(1)
    assert any(kind in done for kind in ("issue", "transfer", "retire", "recognize")), ran.stdout
    for refusal in re.findall(r"(\S+ \S+) ×\d+", ran.stdout):
        assert re.fullmatch(r"4\d\d \d{4}", refusal), ran.stdout
