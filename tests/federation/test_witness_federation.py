"""Two hubs in one process, each with its own database and keys: hub A's checkpoints are cosigned by
hub B's witness (and a witness that is down delays nothing); hub A's log forked in its database is
caught by B on the next checkpoint — whether A submits it or B's monitor fetches it — with the
evidence kept, the event logged and the alarm in B's console."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from hub.console.accounts import Accounts
from hub.database import Database
from hub.identity import log_signers, log_verifiers, witness_verifiers
from hub.log.changes import record_change
from hub.log.reader import LogReader
from hub.log.repository import LogRepository
from hub.seed import seed_demo
from hub.tlog.checkpoints import LogInconsistent
from hub.witness.collector import COSIGNED, REFUSED, UNREACHABLE, CosignatureCollector, collect
from hub.witness.monitor import ADVANCED, BEHIND, CURRENT, SPLIT_VIEW, PeerMonitor
from hub.witness.repository import WitnessRepository
from hub.witness.service import WitnessedLogs, trust_log
from tests.federation.witness_hubs import Hub, HubRouter, alarm_banner, two_hubs
from tests.forking import fork_log
from transparency.checkpoint import Checkpoint
from transparency.note import COSIGNATURE_V1, Signer, open_note, sign_note
from transparency.policy import check_checkpoint, parse_policy


def grow(hub: Hub, count: int) -> None:
    with hub.database.unit_of_work() as session:
        for i in range(count):
            record_change(
                session, "test.grown", subject=("test", str(i)), actor="test", platforms=[], data={}
            )


def witness_vkey(hub: Hub) -> str:
    return witness_verifiers(hub.settings, hub.keystore)[0].vkey


def log_vkey(hub: Hub) -> str:
    return log_verifiers(hub.settings, hub.keystore)[0].vkey


def b_witnesses_a(a: Hub, b: Hub, *, monitored: bool = False) -> None:
    with b.database.unit_of_work() as session:
        trust_log(session, a.origin, [log_vkey(a)], "test", base_url=a.base_url if monitored else None)


def policy_of_a(a: Hub, b: Hub, tmp_path: Path, down: Signer) -> Path:
    path = tmp_path / "a-witnesses.policy"
    path.write_text(
        f"log {log_vkey(a)} {a.base_url}\n"
        f"witness B {witness_vkey(b)} {b.base_url}/witness\n"
        f"witness C {down.verifier.vkey} http://c.hub.test/witness\n"
        "group BC any B C\n"
        "quorum BC\n"
    )
    return path


def fork_a(a: Hub, index: int) -> None:
    """The attacker with A's database: rewrite entry ``index`` and every hash above it, and reset the
    stored checkpoint so that A's hub signs the forked tree (it refuses while the old one is kept)."""
    fork_log(a.database, index)
    with a.database.unit_of_work() as session:
        session.execute(text("DELETE FROM log_checkpoint"))


def events(database: Database, kind: str) -> list[dict[str, Any]]:
    with database.unit_of_work() as session:
        repository = LogRepository(session)
        found = [json.loads(entry.entry) for entry in repository.entries(0, repository.size())]
    return [entry for entry in found if entry["type"] == kind]


def alarms(database: Database) -> list[Any]:
    with database.unit_of_work() as session:
        return WitnessedLogs(session).alarms(open_only=True)


def b_console(b: Hub) -> str:
    seed_demo(b.database, b.settings, with_issuances=False)
    with b.database.unit_of_work() as session:
        password = Accounts(session).add("watcher", "SH")
    return alarm_banner(b, password, "watcher")


Hubs = tuple[Hub, Hub, HubRouter]


@pytest.fixture
def hubs(tmp_path: Path, database: Database, other_database: Database) -> Iterator[Hubs]:
    with two_hubs(tmp_path, database, other_database) as (a, b, router):
        yield a, b, router


def test_a_checkpoint_is_cosigned_by_the_witnesses_that_answer(hubs: Hubs, tmp_path: Path) -> None:
    a, b, router = hubs
    down = Signer("c.hub.test/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    a.settings = a.settings.model_copy(update={"witness_policy": policy_of_a(a, b, tmp_path, down)})
    router.down.add("c.hub.test")
    b_witnesses_a(a, b)
    grow(a, 5)
    collector = CosignatureCollector(a.database, a.settings, a.keystore, transport=router)
    try:
        first = collector.collect(a.checkpoint())
        outcomes = first.by_witness()
        assert outcomes["B"].status == COSIGNED and outcomes["C"].status == UNREACHABLE
        assert first.cosigned_by == {"B"}
        served = a.checkpoint()  # the stored checkpoint now carries B's cosignature
        assert a.settings.witness_policy is not None
        policy = parse_policy(a.settings.witness_policy.read_text())
        verified = check_checkpoint(served.render(), policy, origin=a.origin)
        assert verified.ok and verified.cosigned_by == {"B"}, verified.problems
        opened = open_note(served.render(), witness_verifiers(b.settings, b.keystore))  # B's key alone
        assert [v.name for v, _ in opened.verified] == ["b.hub.test/witness"]

        grow(a, 4)  # the next checkpoint: from the size B last cosigned, with a proof
        second = collector.collect(a.checkpoint())
        assert second.by_witness()["B"].status == COSIGNED
        with b.database.unit_of_work() as session:
            latest = WitnessRepository(session).latest(a.origin)
        assert latest is not None and latest.size == 9
        with a.database.unit_of_work() as session:
            sizes = {row.name: (row.size, row.status) for row in WitnessRepository(session).submissions()}
        assert sizes == {"B": (9, COSIGNED), "C": (0, UNREACHABLE)}

        with a.database.unit_of_work() as session:  # A forgot what B cosigned: 409 teaches it, once
            session.execute(text("DELETE FROM witness_submission"))
        grow(a, 1)
        third = collector.collect(a.checkpoint())
        assert third.by_witness()["B"].status == COSIGNED
    finally:
        collector.close()
    assert alarms(a.database) == [] and alarms(b.database) == []


def test_a_witness_that_answers_nonsense_or_slowly_cosigns_nothing(hubs: Hubs, tmp_path: Path) -> None:
    a, b, _ = hubs
    down = Signer("c.hub.test/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    a.settings = a.settings.model_copy(update={"witness_policy": policy_of_a(a, b, tmp_path, down)})
    b_witnesses_a(a, b)
    grow(a, 3)
    impostor = Signer("c.hub.test/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)

    def witnesses(request: httpx.Request) -> httpx.Response:
        if request.url.host == "c.hub.test":  # a line by C's name from another key: not C's
            note = request.content.decode().split("\n\n", 1)[1]
            line = impostor.sign(note.split("\n\n")[0] + "\n", timestamp=1).line()
            return httpx.Response(200, text=line)
        if request.url.host == "b.hub.test":
            raise httpx.ReadTimeout("B is slow", request=request)
        return httpx.Response(404)

    result = collect(
        a.database, a.settings, a.keystore, a.checkpoint(), transport=httpx.MockTransport(witnesses)
    )
    outcomes = result.by_witness()
    assert outcomes["C"].status == REFUSED and "no valid cosignature" in outcomes["C"].detail
    assert outcomes["B"].status == UNREACHABLE
    assert result.cosigned is None and a.checkpoint().note.signatures == a.checkpoint().note.signatures[:1]


def test_a_forked_log_submitted_to_its_witness_is_caught(hubs: Hubs, tmp_path: Path) -> None:
    a, b, router = hubs
    down = Signer("c.hub.test/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    a.settings = a.settings.model_copy(update={"witness_policy": policy_of_a(a, b, tmp_path, down)})
    router.down.add("c.hub.test")
    b_witnesses_a(a, b)
    grow(a, 6)
    collector = CosignatureCollector(a.database, a.settings, a.keystore, transport=router)
    try:
        assert collector.collect(a.checkpoint()).by_witness()["B"].status == COSIGNED
        fork_a(a, 2)
        grow(a, 2)
        forked = a.checkpoint()  # the next checkpoint, signed over the rewritten history
        assert forked.checkpoint.size == 8
        result = collector.collect(forked)
    finally:
        collector.close()
    outcome = result.by_witness()["B"]
    assert outcome.status == REFUSED and outcome.http_status == 422
    (evidence,) = alarms(b.database)
    assert (
        evidence.origin == a.origin
        and evidence.kind == "inconsistent-proof"
        and evidence.source == "submitted"
    )
    assert evidence.stored_size == 6 and evidence.refused_size == 8
    assert evidence.refused_note == forked.render()  # the forked checkpoint, as A signed it
    (event,) = events(b.database, "witness.split_view_detected")
    assert event["data"]["origin"] == a.origin and event["data"]["refused_size"] == 8
    (own,) = alarms(a.database)  # A hears it too: a witness reports a split view of A's own log
    assert own.origin == a.origin and own.source == "collected" and own.reporter == "b.hub.test/witness"
    page = b_console(b)
    assert 'id="witness-alarm"' in page and a.origin in page


@pytest.mark.parametrize("tiles", [True, False], ids=["from-tiles", "from-the-proof-api"])
def test_a_forked_log_that_stops_submitting_is_caught_by_monitoring(hubs: Hubs, tiles: bool) -> None:
    a, b, router = hubs
    router.standins = True  # /log/checkpoint is always served (stand-in until the app has it)
    if not tiles:
        original = router.handle_request

        def no_tiles(request: httpx.Request) -> httpx.Response:
            if "/log/tile/" in request.url.path:
                return httpx.Response(404, text="no tiles here\n")
            return original(request)

        setattr(router, "handle_request", no_tiles)  # noqa: B010
    b_witnesses_a(a, b, monitored=True)
    grow(a, 300)  # past one full tile
    a.checkpoint()
    monitor = PeerMonitor(b.database, b.settings, b.keystore, transport=router)
    try:
        assert [o.status for o in monitor.check_all()] == [ADVANCED]  # first sight
        assert [o.status for o in monitor.check_all()] == [CURRENT]
        grow(a, 5)
        a.checkpoint()
        (grown,) = monitor.check_all()
        assert (grown.status, grown.size) == (ADVANCED, 305)  # proved consistent, stored
        fork_a(a, 7)  # A now forks and submits nothing
        grow(a, 2)
        a.checkpoint()
        assert monitor.run_once() == 0  # the next round of the worker, one checkpoint interval on
    finally:
        monitor.close()
    used_tiles = any(path.startswith("/log/tile/") for path in router.paths)  # (tiles refused: not recorded)
    used_api = "/v1/log/proofs/consistency" in router.paths
    assert (used_tiles, used_api) == (tiles, not tiles)
    (evidence,) = alarms(b.database)
    assert evidence.kind == "inconsistent-proof" and evidence.source == "monitored"
    assert (evidence.stored_size, evidence.refused_size) == (305, 307)
    (event,) = events(b.database, "witness.split_view_detected")
    assert event["data"]["source"] == "monitored"
    with b.database.unit_of_work() as session:
        latest = WitnessRepository(session).latest(a.origin)
    assert latest is not None and latest.size == 305  # never the forked tree
    assert 'id="witness-alarm"' in b_console(b)


def test_the_same_size_with_another_root_is_caught_by_monitoring(hubs: Hubs) -> None:
    a, b, router = hubs
    b_witnesses_a(a, b, monitored=True)
    grow(a, 4)
    a.checkpoint()
    monitor = PeerMonitor(b.database, b.settings, b.keystore, transport=router)
    try:
        assert [o.status for o in monitor.check_all()] == [ADVANCED]
        fork_a(a, 0)
        assert a.checkpoint().checkpoint.size == 4
        (outcome,) = monitor.check_all()
    finally:
        monitor.close()
    assert outcome.status == SPLIT_VIEW
    (evidence,) = alarms(b.database)
    assert evidence.kind == "same-size-other-root" and evidence.stored_size == evidence.refused_size == 4


def test_monitoring_a_hub_that_is_down_or_lies_about_its_name_changes_nothing(hubs: Hubs) -> None:
    a, b, router = hubs
    b_witnesses_a(a, b, monitored=True)
    grow(a, 4)
    a.checkpoint()
    monitor = PeerMonitor(b.database, b.settings, b.keystore, transport=router)
    try:
        router.down.add("a.hub.test")
        assert [o.status for o in monitor.check_all()] == ["unreachable"]
        router.down.clear()
        with b.database.unit_of_work() as session:  # B trusts another key for A's origin
            other = Signer(a.origin, Ed25519PrivateKey.generate())
            trust_log(session, a.origin, [other.verifier.vkey], "test", base_url=a.base_url)
        assert [o.status for o in monitor.check_all()] == ["refused"]
    finally:
        monitor.close()
    assert alarms(b.database) == []
    with b.database.unit_of_work() as session:
        assert WitnessRepository(session).latest(a.origin) is None


def test_a_router_reaches_each_hub_by_its_base_url(hubs: Hubs) -> None:
    a, b, router = hubs
    with httpx.Client(transport=router) as client:
        assert client.get(f"{a.base_url}/healthz").status_code == 200
        assert client.get(f"{b.base_url}/healthz").status_code == 200
        with pytest.raises(httpx.ConnectError):
            client.get("http://nowhere.hub.test/healthz")
    assert isinstance(router, HubRouter)


def test_an_older_checkpoint_must_be_a_prefix_of_the_cosigned_one(hubs: Hubs) -> None:
    a, b, router = hubs
    b_witnesses_a(a, b, monitored=True)
    grow(a, 6)
    a.checkpoint()
    served: dict[str, str] = {}

    def older(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/log/checkpoint" and "note" in served:
            return httpx.Response(200, text=served["note"])
        return router.handle_request(request)

    def signed_at(size: int) -> str:
        with a.database.unit_of_work() as session:
            root = LogReader(session).root(size)
        text = Checkpoint(a.origin, size, root).text()
        return sign_note(text, log_signers(a.settings, a.keystore)).render()

    monitor = PeerMonitor(b.database, b.settings, b.keystore, transport=httpx.MockTransport(older))
    try:
        assert [o.status for o in monitor.check_all()] == [ADVANCED]
        served["note"] = signed_at(4)  # an honest older checkpoint (a stale cache): a prefix
        assert [o.status for o in monitor.check_all()] == [BEHIND]
        fork_log(a.database, 1)
        served["note"] = signed_at(4)  # an older checkpoint of another history
        (outcome,) = monitor.check_all()
    finally:
        monitor.close()
    assert outcome.status == SPLIT_VIEW
    (evidence,) = alarms(b.database)
    assert (evidence.kind, evidence.stored_size, evidence.refused_size) == ("inconsistent-proof", 6, 4)


def test_a_witness_that_cosigned_more_of_our_log_than_we_have_raises_the_alarm(
    hubs: Hubs, tmp_path: Path
) -> None:
    a, b, _ = hubs
    down = Signer("c.hub.test/witness", Ed25519PrivateKey.generate(), COSIGNATURE_V1)
    a.settings = a.settings.model_copy(update={"witness_policy": policy_of_a(a, b, tmp_path, down)})
    grow(a, 3)

    def witnesses(request: httpx.Request) -> httpx.Response:
        if request.url.host == "b.hub.test":  # B cosigned size 50 of a.hub.test/log: not ours
            return httpx.Response(409, content=b"50\n", headers={"content-type": "text/x.tlog.size"})
        raise httpx.ConnectError("down", request=request)

    result = collect(
        a.database, a.settings, a.keystore, a.checkpoint(), transport=httpx.MockTransport(witnesses)
    )
    assert result.by_witness()["B"].status == REFUSED and result.by_witness()["C"].status == UNREACHABLE
    (own,) = alarms(a.database)
    assert (own.kind, own.source, own.reporter) == ("witness-ahead", "collected", "b.hub.test/witness")
    assert own.stored_note.startswith("409 text/x.tlog.size\n50")
    assert [e["data"]["kind"] for e in events(a.database, "witness.split_view_detected")] == ["witness-ahead"]


def test_a_log_rewritten_under_its_checkpoint_is_caught_by_its_tiles(hubs: Hubs) -> None:
    """The attacker rewrites A's stored log and leaves its checkpoint: A refuses to sign (7010) and
    submits nothing new, yet serves the rewritten tiles. B's next round sees them disagree."""
    a, b, router = hubs
    b_witnesses_a(a, b, monitored=True)
    grow(a, 20)
    a.checkpoint()
    monitor = PeerMonitor(b.database, b.settings, b.keystore, transport=router)
    try:
        assert [o.status for o in monitor.check_all()] == [ADVANCED]
        assert [o.status for o in monitor.check_all()] == [CURRENT]  # the tiles give the signed root
        fork_log(a.database, 11)
        grow(a, 1)
        with pytest.raises(LogInconsistent):
            a.checkpoint()
        (outcome,) = monitor.check_all()
        assert monitor.check_all()[0].status == SPLIT_VIEW  # still seen, but kept once
    finally:
        monitor.close()
    assert outcome.status == SPLIT_VIEW
    (evidence,) = alarms(b.database)
    assert (evidence.kind, evidence.stored_size, evidence.refused_size) == ("tiles-disagree", 20, 20)
    assert evidence.refused_root != evidence.stored_root
    assert len(events(b.database, "witness.split_view_detected")) == 1
    assert "the stored log was rewritten" in b_console(b)
