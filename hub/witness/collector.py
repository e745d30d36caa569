"""Cosignatures for the hub's own checkpoints, collected from the witnesses of its policy.

The hub's witness policy (c2sp.org/tlog-policy) is the file named by ``PUHUI_WITNESS_POLICY`` plus
the witnesses of its peers (``peer_witness_lines``, the seam the peering registry fills). For a new
checkpoint, every witness with a submission URL is sent ``POST <url>/add-checkpoint``
(c2sp.org/tlog-witness) with ``old <size>`` = the size that witness last cosigned of our log (kept
in ``witness_submission``; 0 the first time), the consistency proof from that size and the
checkpoint; a 409 ``text/x.tlog.size`` answer gives the witness's size and the request is sent once
more from it. The answer's cosignature lines are checked against the witness's key (lines of keys
not in the policy are ignored) and kept with the checkpoint (``CheckpointService.add_cosignatures``).

The witnesses are asked in parallel, each with a timeout: a witness that is down delays nobody
else, and the hub's own work never waits for one. A witness that refuses OUR checkpoint as
inconsistent with what it cosigned before (422, or 409 for the same size with another root) —
or that has cosigned a larger tree of our log than we now have — reports a split view of our own
log: that is kept as evidence and raises the alarm, as the witness side does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from sqlmodel import Session

from adapters.bounded import read_bounded
from hub import __version__
from hub.database import Database
from hub.identity import log_verifiers
from hub.keystore import KeyStore
from hub.log.reader import LogReader
from hub.models import utcnow
from hub.peering.models import PeerStatus
from hub.peering.repository import PeerRepository
from hub.problems import HubError
from hub.settings import Settings
from hub.tlog.checkpoints import CheckpointService, CosignedCheckpoint
from hub.tlog.policy import WitnessLines
from hub.witness.repository import WitnessRepository
from hub.witness.service import BAD_PROOF, COLLECTED, SAME_SIZE, SIZE_MEDIA_TYPE, WitnessedLogs
from transparency.checkpoint import Checkpoint
from transparency.note import Note, NoteError, Signature, Verifier, parse_signature_lines
from transparency.policy import NONE, Group, Policy, PolicyError, parse_policy
from transparency.witness import AddCheckpoint

log = logging.getLogger("puhui.witness")

COSIGNED = "cosigned"
REFUSED = "refused"
UNREACHABLE = "unreachable"
NO_URL = "no-url"
AHEAD = "witness-ahead"  # kind of evidence: a witness cosigned a larger tree of our log than ours
MAX_ANSWER = 64 * 1024

PeerWitnesses = Callable[[Session], Sequence[str]]


def peer_witness_lines(session: Session) -> list[str]:
    """``witness <name> <vkey> <base>/witness`` lines (c2sp.org/tlog-policy) for every published
    witness key of every active peer: the peered hubs witness this hub's log. A peer's second and
    later keys (a rotation) are named ``<key name>~2``…; any one of a peer's keys counts for it."""
    lines = []
    for peer in PeerRepository(session).listing():
        if peer.status != PeerStatus.ACTIVE:
            continue
        for position, vkey in enumerate(peer.witness_vkeys):
            name = vkey.split("+", 1)[0]
            name = name if position == 0 else f"{name}~{position + 1}"
            lines.append(f"witness {name} {vkey} {peer.base_url}/witness")
    return lines


def witness_lines(session: Session, settings: Settings) -> WitnessLines:
    """The ``witness`` and ``group`` lines and the quorum of the hub's policy (file plus peers), as
    ``GET /log/policy`` publishes them after the hub's own ``log`` lines."""
    policy = hub_policy(settings, peer_witness_lines(session))
    rendered = Policy((), policy.witnesses, policy.groups, policy.quorum).render().splitlines()
    return WitnessLines(tuple(rendered[:-1]), policy.quorum)


def hub_policy(settings: Settings, peers: Sequence[str] = ()) -> Policy:
    """The policy file's logs, witnesses, groups and quorum, plus the peers' witness lines (a peer
    line whose name or key the file already uses is left out: the file wins). No file: the peers'
    witnesses and quorum ``none``. Raises ``PolicyError`` for a file that does not parse."""
    base = parse_policy(settings.witness_policy.read_text("utf-8")) if settings.witness_policy else Policy()
    witnesses = dict(base.witnesses)
    keys = {verifier.public for verifier, _ in witnesses.values()} | {v.public for v, _ in base.logs}
    for line in peers:
        try:
            parsed = parse_policy(f"{line}\nquorum {NONE}\n")
        except PolicyError as exc:
            log.warning("peer witness line refused: %s", exc)
            continue
        for name, (verifier, url) in parsed.witnesses.items():
            if name in witnesses or name in base.groups or verifier.public in keys:
                continue
            witnesses[name] = (verifier, url)
            keys.add(verifier.public)
    if settings.witness_policy is not None:
        return Policy(base.logs, witnesses, base.groups, base.quorum)
    return Policy(base.logs, witnesses, *peer_quorum(list(witnesses)))


def peer_quorum(names: Sequence[str]) -> tuple[dict[str, Group], str]:
    """Without a policy file: every peer must cosign (any one of its keys) — a group per peer
    (``any`` of its key names) and the quorum group ``peers`` (``all`` of them); ``none`` without
    peers."""
    by_peer: dict[str, list[str]] = {}
    for name in names:
        by_peer.setdefault(name.split("~", 1)[0], []).append(name)
    if not by_peer:
        return {}, NONE
    groups = {f"peer:{peer}": Group(f"peer:{peer}", 1, tuple(keys)) for peer, keys in by_peer.items()}
    groups["peers"] = Group("peers", len(by_peer), tuple(groups))
    return groups, "peers"


@dataclass(frozen=True, slots=True)
class WitnessOutcome:
    """What one witness answered: cosigned, refused (with its HTTP status), unreachable, no-url."""

    witness: str
    status: str
    detail: str
    http_status: int | None = None
    old_size: int | None = None
    signatures: tuple[Signature, ...] = ()
    evidence_id: int | None = None


@dataclass(frozen=True)
class Collection:
    """The result of one collection round for a checkpoint."""

    checkpoint: Checkpoint
    outcomes: tuple[WitnessOutcome, ...] = ()
    cosigned: CosignedCheckpoint | None = None  # the stored checkpoint with every cosignature kept
    problems: tuple[str, ...] = field(default=())

    def by_witness(self) -> dict[str, WitnessOutcome]:
        return {outcome.witness: outcome for outcome in self.outcomes}

    @property
    def cosigned_by(self) -> set[str]:
        return {outcome.witness for outcome in self.outcomes if outcome.status == COSIGNED}


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    media_type: str
    text: str


class CosignatureCollector:
    """Asks the policy's witnesses to cosign the hub's checkpoints. One HTTP client (keep-alive) and
    one thread pool live as long as the collector (the worker); ``transport`` is for tests."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        keystore: KeyStore,
        *,
        transport: httpx.BaseTransport | None = None,
        peers: PeerWitnesses = peer_witness_lines,
        max_parallel: int = 8,
    ) -> None:
        self.database, self.settings, self.keystore, self.peers = database, settings, keystore, peers
        self.client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(settings.witness_timeout),
            headers={"User-Agent": f"puhui-hub/{__version__} (witness client)"},
        )
        self.pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="cosign")

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def __call__(self, checkpoint: CosignedCheckpoint) -> Collection:
        return self.collect(checkpoint)

    def policy(self) -> Policy:
        with self.database.unit_of_work() as session:
            peers = list(self.peers(session))
        return hub_policy(self.settings, peers)

    def collect(self, checkpoint: CosignedCheckpoint) -> Collection:
        """Ask every witness of the policy (in parallel) to cosign ``checkpoint``; keep the verified
        cosignatures with it. Never raises for a witness's failure: each one is an outcome."""
        try:
            policy = self.policy()
        except (OSError, PolicyError) as exc:
            log.error("the witness policy cannot be read: %s", exc)
            return Collection(checkpoint.checkpoint, problems=(f"witness policy: {exc}",))
        own = {v.key_id + v.name.encode() for v in log_verifiers(self.settings, self.keystore)}
        note = Note(
            checkpoint.note.text,
            tuple(s for s in checkpoint.note.signatures if s.key_id + s.name.encode() in own),
        )
        futures = [
            self.pool.submit(self._ask, name, verifier, url, checkpoint.checkpoint, note)
            for name, (verifier, url) in policy.witnesses.items()
        ]
        outcomes = tuple(future.result() for future in futures)
        signatures = [signature for outcome in outcomes for signature in outcome.signatures]
        stored = None
        with self.database.unit_of_work() as session:
            service = CheckpointService(session, self.settings, self.keystore)
            stored = service.add_cosignatures(checkpoint.checkpoint.size, signatures) if signatures else None
        return Collection(checkpoint.checkpoint, outcomes, stored)

    # one witness

    def _ask(
        self, name: str, verifier: Verifier, url: str | None, checkpoint: Checkpoint, note: Note
    ) -> WitnessOutcome:
        if not url:
            return WitnessOutcome(name, NO_URL, "the policy gives this witness no submission URL")
        try:
            outcome = self._exchange(name, verifier, url, checkpoint, note)
        except Exception as exc:  # one witness's failure is its outcome, never the round's
            log.exception("asking witness %s failed", name)
            outcome = WitnessOutcome(name, UNREACHABLE, f"{type(exc).__name__}: {exc}")
        try:
            with self.database.unit_of_work() as session:
                size = outcome.old_size if outcome.status != COSIGNED else checkpoint.size
                WitnessRepository(session).note_submission(
                    verifier.vkey, name, size, outcome.status, outcome.detail, utcnow()
                )
        except Exception:
            log.exception("recording witness %s's answer failed", name)
        return outcome

    def _exchange(
        self, name: str, verifier: Verifier, url: str, checkpoint: Checkpoint, note: Note
    ) -> WitnessOutcome:
        with self.database.unit_of_work() as session:
            remembered = WitnessRepository(session).submission_size(verifier.vkey)
        old = remembered if remembered is not None and remembered <= checkpoint.size else 0
        for attempt in (1, 2):
            try:
                proof = self._proof(old, checkpoint.size)
            except HubError as exc:
                return WitnessOutcome(
                    name, REFUSED, f"no consistency proof from {old}: {exc.detail}", old_size=old
                )
            request = AddCheckpoint(old, tuple(proof), note)
            try:
                answer = self._post(url, request.render())
            except httpx.HTTPError as exc:
                return WitnessOutcome(name, UNREACHABLE, f"{type(exc).__name__}: {exc}", old_size=remembered)
            if answer.status == 200:
                return self._cosigned(name, verifier, checkpoint, answer)
            if answer.status == 409 and answer.media_type == SIZE_MEDIA_TYPE:
                known = _size(answer.text)
                if known is None:
                    return WitnessOutcome(name, REFUSED, "409 without a tree size", 409, old_size=remembered)
                if known > checkpoint.size and known <= self._latest_size():
                    detail = f"the witness already cosigned our newer checkpoint of size {known}"
                    return WitnessOutcome(name, REFUSED, detail, 409, known)  # another process was first
                if known > checkpoint.size:
                    evidence = self._alarm(verifier, AHEAD, checkpoint, note, request, answer)
                    detail = (
                        f"the witness cosigned size {known} of our log, larger than ours ({checkpoint.size})"
                    )
                    return WitnessOutcome(name, REFUSED, detail, 409, known, evidence_id=evidence)
                if attempt == 1 and known != old:
                    old = known
                    continue
                return WitnessOutcome(name, REFUSED, f"the witness's size is {known}", 409, known)
            if answer.status == 422 or answer.status == 409:
                kind = BAD_PROOF if answer.status == 422 else SAME_SIZE
                evidence = self._alarm(verifier, kind, checkpoint, note, request, answer)
                detail = f"the witness refused our checkpoint as a split view ({answer.status})"
                return WitnessOutcome(name, REFUSED, detail, answer.status, old, evidence_id=evidence)
            status = UNREACHABLE if answer.status >= 500 else REFUSED
            return WitnessOutcome(name, status, answer.text[:300], answer.status, remembered)
        raise AssertionError("unreachable: the second attempt returns")

    def _latest_size(self) -> int:
        with self.database.unit_of_work() as session:
            latest = CheckpointService(session, self.settings, self.keystore).latest()
        return latest.checkpoint.size if latest is not None else 0

    def _proof(self, old: int, size: int) -> list[bytes]:
        if old == 0 or old == size:
            return []
        with self.database.unit_of_work() as session:
            return LogReader(session).consistency(old, size)

    def _post(self, url: str, body: str) -> _Answer:
        deadline = time.monotonic() + 2 * self.settings.witness_timeout
        with self.client.stream(
            "POST",
            url.rstrip("/") + "/add-checkpoint",
            content=body.encode("utf-8"),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        ) as response:
            data = read_bounded(response, MAX_ANSWER, deadline)  # an endless or trickling one: given up on
            media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            return _Answer(response.status_code, media_type, data.decode("utf-8", errors="replace"))

    def _cosigned(
        self, name: str, verifier: Verifier, checkpoint: Checkpoint, answer: _Answer
    ) -> WitnessOutcome:
        try:
            lines = parse_signature_lines(answer.text)
        except NoteError as exc:
            return WitnessOutcome(name, REFUSED, f"the answer is not signature lines: {exc}", 200)
        mine = [line for line in lines if verifier.matches(line)]
        good = [line for line in mine if verifier.verify(checkpoint.text(), line)]
        if len(good) != len(mine) or not good:
            return WitnessOutcome(name, REFUSED, "no valid cosignature by the witness's key", 200)
        return WitnessOutcome(name, COSIGNED, "cosigned", 200, checkpoint.size, tuple(good))

    def _alarm(
        self,
        witness: Verifier,
        kind: str,
        checkpoint: Checkpoint,
        note: Note,
        request: AddCheckpoint,
        answer: _Answer,
    ) -> int | None:
        """A witness says our log showed it another view: keep the evidence, raise the alarm."""
        with self.database.unit_of_work() as session:
            # the reporter is the witness's key name: meaningful beyond our policy file
            return WitnessedLogs(session).keep_evidence(
                origin=checkpoint.origin,
                kind=kind,
                source=COLLECTED,
                reporter=witness.name,
                stored=None,
                refused=checkpoint,
                refused_note=note.render(),
                proof=request.proof,
                old_size=request.old_size,
                answer=f"{answer.status} {answer.media_type}\n{answer.text[:2000]}",
            )


def _size(text: str) -> int | None:
    value = text[:-1] if text.endswith("\n") else text
    if not value.isascii() or not value.isdigit() or (value != "0" and value.startswith("0")):
        return None
    return int(value)


def collect(
    database: Database,
    settings: Settings,
    keystore: KeyStore,
    checkpoint: CosignedCheckpoint,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Collection:
    """One collection with a collector of its own (a worker keeps one ``CosignatureCollector``)."""
    collector = CosignatureCollector(database, settings, keystore, transport=transport)
    try:
        return collector.collect(checkpoint)
    finally:
        collector.close()
