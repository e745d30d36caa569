"""The log served in the C2SP formats: the checkpoint (c2sp.org/tlog-checkpoint), hash tiles and
entry bundles (c2sp.org/tlog-tiles), checked against an independent computation from the entries,
and the audit from tiles alone (``puhui audit verify --tiles``)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from hub.cli.audit import run_tile_audit
from hub.cli.main import app as cli
from hub.identity import log_verifiers
from hub.keystore import KeyStore
from hub.log.changes import record_change
from hub.tlog.checkpointer import Checkpointer, sign_checkpoint
from tests.forking import fork_log


def grow(database, count: int, size: int = 0) -> None:
    with database.unit_of_work() as session:
        for i in range(count):
            record_change(
                session, "test.grown", subject=("test", str(i)), actor="test", data={"pad": "x" * size}
            )


def sign(database, settings):
    return sign_checkpoint(database, settings, KeyStore(settings.resolved_keys_dir))


def entries(client: TestClient, size: int) -> list[bytes]:
    out: list[bytes] = []
    for start in range(0, size, 1000):
        page = client.get("/v1/log/entries", params={"start": start, "end": min(size, start + 1000)}).json()
        out += [base64.b64decode(item["entry_b64"]) for item in page]
    return out


# --- an independent computation of tiles (RFC 6962 / tlog-tiles, from the entries alone) ---


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _mth(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(hashes[:k]) + _mth(hashes[k:])).digest()


def expected_tile(all_entries: list[bytes], level: int, index: int, width: int) -> bytes:
    """Tile ``level/index`` of width ``width``: MTH(D[(n*256+i)*256**l : (n*256+i+1)*256**l])."""
    leaves = [_leaf(e) for e in all_entries]
    span = 256**level
    return b"".join(
        _mth(leaves[(index * 256 + i) * span : (index * 256 + i + 1) * span]) for i in range(width)
    )


def expected_bundle(all_entries: list[bytes], index: int, width: int) -> bytes:
    chosen = all_entries[index * 256 : index * 256 + width]
    return b"".join(len(e).to_bytes(2, "big") + e for e in chosen)


def test_no_checkpoint_yet_is_a_404_with_its_code(client: TestClient) -> None:
    answer = client.get("/log/checkpoint")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "7011"


def test_the_checkpoint_is_served_as_signed_and_cached_a_few_seconds(client, database, settings) -> None:
    grow(database, 3)
    signed = sign(database, settings)
    answer = client.get("/log/checkpoint")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=2"
    assert answer.text == signed.render()
    assert answer.text.startswith(f"{settings.log_origin}\n{signed.checkpoint.size}\n")


def test_a_get_never_signs(client, database, settings) -> None:
    grow(database, 3)
    sign(database, settings)
    before = client.get("/log/checkpoint").text
    grow(database, 2)
    assert client.get("/log/checkpoint").text == before  # the log grew; only the checkpointer signs
    Checkpointer(database, settings, KeyStore(settings.resolved_keys_dir)).run_once()
    assert client.get("/log/checkpoint").text != before


def test_the_checkpointer_hands_each_checkpoint_to_the_cosigning_hooks(database, settings) -> None:
    seen, calls = [], []

    def failing(checkpoint) -> None:
        calls.append(checkpoint.checkpoint.size)
        raise RuntimeError("a witness is down")

    grow(database, 2)
    worker = Checkpointer(database, settings, KeyStore(settings.resolved_keys_dir), [failing, seen.append])
    assert worker.run_once() == 0
    assert calls == [seen[0].checkpoint.size]  # a failing hook does not stop the next one
    fork_log(database, 0)
    grow(database, 1)
    assert worker.run_once() == 0  # a rewritten log: logged as an alarm, nothing signed, no hook
    assert len(seen) == 1


def test_the_cli_signs_a_checkpoint(cli_hub) -> None:
    runner = CliRunner()
    signed = runner.invoke(cli, ["log", "checkpoint"])
    assert signed.exit_code == 0, signed.output
    origin, size, root, blank = signed.output.split("\n")[:4]
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    assert (origin, size, root, blank) == ("127.0.0.1:8000/log", "0", empty, "")  # an empty log
    assert runner.invoke(cli, ["log", "checkpoint"]).output == signed.output  # nothing new: the same
    assert signed.output.split("\n")[4].startswith(f"\u2014 {origin} ")
    policy = runner.invoke(cli, ["log", "policy"])
    assert policy.exit_code == 0 and policy.output.startswith(f"log {origin}+")
    assert policy.output.endswith("quorum none\n")


def test_tiles_and_bundles_match_an_independent_computation(client, database, settings) -> None:
    grow(database, 600)
    size = sign(database, settings).checkpoint.size
    assert size > 512
    logged = entries(client, size)
    full, partial = size // 256, size % 256
    for index in range(full):
        tile = client.get(f"/log/tile/0/{index:03d}")
        assert tile.status_code == 200
        assert tile.headers["content-type"] == "application/octet-stream"
        assert tile.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert tile.content == expected_tile(logged, 0, index, 256)
        bundle = client.get(f"/log/tile/entries/{index:03d}")
        assert bundle.content == expected_bundle(logged, index, 256)
    assert client.get(f"/log/tile/0/{full:03d}.p/{partial}").content == expected_tile(
        logged, 0, full, partial
    )
    assert client.get(f"/log/tile/entries/{full:03d}.p/{partial}").content == expected_bundle(
        logged, full, partial
    )
    upper = client.get(f"/log/tile/1/000.p/{full}")
    assert upper.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert upper.content == expected_tile(logged, 1, 0, full)
    # a narrower partial tile of a position is the prefix of the wider one (immutable content)
    assert client.get("/log/tile/0/000.p/7").content == expected_tile(logged, 0, 0, 7)


@dataclass(frozen=True)
class Refused:
    name: str
    path: str


REFUSED = [
    Refused("beyond the tree: a full tile not there yet", "/log/tile/0/009"),
    Refused("partial wider than the tree", "/log/tile/0/000.p/40"),
    Refused("an entry bundle beyond the tree", "/log/tile/entries/001"),
    Refused("a level with no tile yet", "/log/tile/1/000"),
    Refused("the top level of 63", "/log/tile/63/000"),
    Refused("level 64", "/log/tile/64/000"),
    Refused("a level with a leading zero", "/log/tile/00/000"),
    Refused("an index not three digits", "/log/tile/0/0"),
    Refused("an index of four digits", "/log/tile/0/0000"),
    Refused("a non-canonical x000 prefix", "/log/tile/0/x000/000"),
    Refused("an element without x", "/log/tile/0/001/000"),
    Refused("width 0", "/log/tile/0/000.p/0"),
    Refused("width 256", "/log/tile/0/000.p/256"),
    Refused("width with a leading zero", "/log/tile/0/000.p/05"),
    Refused("a negative index", "/log/tile/0/-01"),
    Refused("a trailing slash", "/log/tile/0/000/"),
    Refused("no index", "/log/tile/0"),
    Refused("an unknown kind", "/log/tile/data/000"),
    Refused("an encoded dot-dot element", "/log/tile/0/%2E%2E/000"),
    Refused("an encoded slash", "/log/tile/0%2F000"),
    Refused("a query does not make a width", "/log/tile/0/000.p"),
    Refused("a huge index", "/log/tile/0/x999/x999/x999/x999/x999/x999/x999/999"),
]


@pytest.mark.parametrize("row", REFUSED, ids=lambda row: row.name)
def test_tile_paths_refused(client, database, settings, row: Refused) -> None:
    grow(database, 20)
    sign(database, settings)
    answer = client.get(row.path)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if row.path.startswith("/log/tile/") and ".." not in row.path:
        assert answer.json()["code"] == "7012"
    assert "cache-control" not in answer.headers or "immutable" not in answer.headers["cache-control"]


def test_an_entry_too_large_for_a_bundle_is_named(client, database, settings) -> None:
    grow(database, 2)
    grow(database, 1, size=70_000)
    answer = client.get("/log/tile/entries/000.p/3")
    assert answer.status_code == 404
    assert answer.json()["code"] == "7013"
    assert "entry 2 " in answer.json()["detail"]
    assert client.get("/log/tile/entries/000.p/2").status_code == 200  # the bundle before it is served
    assert client.get("/log/tile/0/000.p/3").status_code == 200  # its leaf hash is in its tile


def audit(client, settings, **kwargs):
    verifiers = log_verifiers(settings, KeyStore(settings.resolved_keys_dir))
    return run_tile_audit(client, kwargs.pop("verifiers", verifiers), **kwargs)


def test_the_audit_from_tiles_passes_on_a_clean_hub(client, database, settings) -> None:
    grow(database, 600)
    grow(database, 1, size=70_000)  # read from /v1/log/entries, checked against its tile
    signed = sign(database, settings)
    report, checkpoint = audit(client, settings)
    assert report.ok, report.findings
    assert checkpoint == signed.checkpoint
    assert report.entries == signed.checkpoint.size


def test_the_audit_names_the_index_of_a_forked_entry(client, database, settings) -> None:
    grow(database, 300)
    sign(database, settings)
    fork_log(database, 257)
    report, _ = audit(client, settings)
    assert not report.ok
    assert any(finding.startswith("entry 257:") for finding in report.findings), report.findings
    assert any(finding.startswith("root:") for finding in report.findings), report.findings


def test_the_audit_names_an_altered_entry_in_a_bundle(client, database, settings) -> None:
    grow(database, 300)
    sign(database, settings)
    with database.engine.begin() as connection:  # the entry alone, its leaf hash left as it was
        connection.execute(
            text('UPDATE log_entry SET entry = :e WHERE "index" = 5'), {"e": b'{"log_index":5}'}
        )
    report, _ = audit(client, settings)
    assert any(f == "entry 5: its bytes do not hash to its leaf in tile/0/000" for f in report.findings)


def test_the_audit_names_an_upper_tile_that_disagrees(client, database, settings) -> None:
    grow(database, 520)
    sign(database, settings)
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE log_node SET hash = :h WHERE level = 8 AND idx = 1"), {"h": b"\x07" * 32}
        )
    report, _ = audit(client, settings)
    assert "tile/1/000.p/2: hash 1 is not the hash of tile/0/001" in report.findings, report.findings


def test_the_audit_refuses_a_checkpoint_signed_by_another_key(client, database, settings) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from transparency.note import Signer

    grow(database, 3)
    sign(database, settings)
    stranger = Signer(settings.log_origin, Ed25519PrivateKey.generate()).verifier
    report, checkpoint = audit(client, settings, verifiers=[stranger])
    assert checkpoint is None
    assert report.findings == ["checkpoint: no signature by a known key"]


def test_audit_verify_tiles_through_the_cli(client, database, settings, monkeypatch) -> None:
    grow(database, 5)
    sign(database, settings)
    vkey = log_verifiers(settings, KeyStore(settings.resolved_keys_dir))[0].vkey
    real = httpx.Client

    def in_process(*args, **kwargs):  # the CLI's client, talking to the app
        kwargs["transport"] = client._transport
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", in_process)
    ok = CliRunner().invoke(cli, ["audit", "verify", "--tiles", "http://testserver/log", "--vkey", vkey])
    assert ok.exit_code == 0, ok.output
    assert "log verified from tiles: 5 entries" in ok.output
    fork_log(database, 2)
    bad = CliRunner().invoke(cli, ["audit", "verify", "--tiles", "http://testserver/log", "--vkey", vkey])
    assert bad.exit_code == 1
    assert "FAIL entry 2:" in bad.output
    none = CliRunner().invoke(cli, ["audit", "verify", "--tiles", "http://testserver/log"])
    assert none.exit_code == 1 and "--vkey" in none.output


@dataclass(frozen=True)
class Encoding:
    name: str
    accept: str
    gzipped: bool


ENCODINGS = [
    Encoding("gzip asked", "gzip, identity", True),
    Encoding("any encoding", "*", True),
    Encoding("identity only", "identity", False),
    Encoding("gzip refused with q=0", "gzip;q=0, identity", False),
    Encoding("a malformed quality", "gzip;q=x", False),
    Encoding("gzip named though * is refused", "*;q=0, gzip", True),
    Encoding("* accepted but gzip refused", "gzip;q=0, *", False),
]


@pytest.mark.parametrize("row", ENCODINGS, ids=lambda row: row.name)
def test_entry_bundles_are_gzipped_when_the_client_accepts_it(client, database, settings, row) -> None:
    import gzip

    grow(database, 40)
    logged = entries(client, 40)
    answer = client.get("/log/tile/entries/000.p/40", headers={"Accept-Encoding": row.accept})
    assert answer.headers["vary"] == "Accept-Encoding"
    assert (answer.headers.get("content-encoding") == "gzip") is row.gzipped
    assert answer.content == expected_bundle(logged, 0, 40)  # decoded by the client
    path, headers = "/log/tile/entries/000.p/40", {"Accept-Encoding": row.accept}
    with client.stream("GET", path, headers=headers) as raw:
        sent = b"".join(raw.iter_raw())
    assert (gzip.decompress(sent) if row.gzipped else sent) == answer.content
    hashes = client.get("/log/tile/0/000.p/40", headers={"Accept-Encoding": row.accept})
    assert "content-encoding" not in hashes.headers  # hashes do not compress


def test_the_audit_of_a_log_without_checkpoint_says_so(client, settings) -> None:
    report, checkpoint = audit(client, settings)
    assert checkpoint is None
    assert report.findings == ["checkpoint: /log/checkpoint answered 404 [7011]"]


def test_the_hubs_worker_loop_runs_the_checkpointer_with_the_cosigning_hooks(database, settings) -> None:
    import threading

    from hub.app import create_app

    grow(database, 4)
    app = create_app(settings.model_copy(update={"webhook_worker": True}), database)
    handed = threading.Event()
    sizes: list[int] = []

    def hook(checkpoint) -> None:
        sizes.append(checkpoint.checkpoint.size)
        handed.set()

    app.state.cosigners.append(hook)  # the seam a witness part fills
    with TestClient(app) as running:
        assert handed.wait(timeout=60)
        assert "checkpointer-thread" in {thread.name for thread in threading.enumerate()}
        assert running.get("/log/checkpoint").text.split("\n")[1] == "4"
    assert sizes[0] == 4


def test_a_proof_not_yet_covered_says_when_to_retry(client, database, settings) -> None:
    from hub.keystore import KeyStore as Keys
    from hub.tlog.proofs import NotCheckpointed, ProofService

    grow(database, 2)
    sign(database, settings)
    grow(database, 1)
    with database.unit_of_work() as session, pytest.raises(NotCheckpointed) as early:
        ProofService(session, settings, Keys(settings.resolved_keys_dir)).proof(2)
    assert early.value.code == "7014"
    assert early.value.headers == {"Retry-After": "5"}
