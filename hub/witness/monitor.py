"""Monitoring the logs this hub witnesses, so that a fork is caught within one checkpoint interval
even when the forking hub stops submitting its checkpoints.

Every ``checkpoint_interval`` (a worker round), for each witnessed log with a base URL: fetch its
latest checkpoint (``<base>/log/checkpoint``, c2sp.org/tlog-checkpoint) and check its signature
with the log's keys. If it is larger than the checkpoint this witness cosigned, fetch the
consistency proof from the cosigned size — computed from the log's tiles (``<base>/log/tile/...``,
c2sp.org/tlog-tiles), or from ``<base>/v1/log/proofs/consistency`` when it serves no tiles — and run
it through the same path as a submitted ``add-checkpoint`` (judge, compare-and-swap, evidence and
alarm). The same size with another root is a split view, caught the same way. A checkpoint
smaller than the cosigned one must be proved a prefix of it, else it is evidence too.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.bounded import read_bounded
from hub import __version__
from hub.database import Database
from hub.keystore import KeyStore
from hub.settings import Settings
from hub.witness.repository import WitnessRepository
from hub.witness.service import BAD_PROOF, MONITORED, TILES_DISAGREE, Witness, WitnessedLogs, stored_keys
from transparency.checkpoint import Checkpoint
from transparency.merkle import consistency_ranges, range_hash, verify_consistency
from transparency.note import NoteError, b64, open_note, parse_note
from transparency.tiles import TileError, TileHashes
from transparency.witness import AddCheckpoint, Verdict

log = logging.getLogger("puhui.witness")

MAX_CHECKPOINT = 16 * 1024
MAX_TILE = 256 * 32
MAX_PROOF_JSON = 64 * 1024
CHECK_BUDGET = 6  # a log's whole check, in witness timeouts (each fetch: at most 2)

# outcomes of one look at a log
CURRENT = "current"  # nothing new
ADVANCED = "advanced"  # a larger checkpoint, proved consistent, stored
SPLIT_VIEW = "split-view"  # evidence kept, alarm raised
BEHIND = "behind"  # the log serves an older checkpoint, proved a prefix of the cosigned one
UNREACHABLE = "unreachable"
REFUSED = "refused"  # a checkpoint that is not the log's (bad signature, other origin, malformed)


@dataclass(frozen=True, slots=True)
class MonitorOutcome:
    origin: str
    status: str
    detail: str
    size: int | None = None
    evidence_id: int | None = None


class ProofUnavailable(Exception):
    """Neither the tiles nor the proof API gave a consistency proof."""


class PeerMonitor:
    """The monitoring job: ``run_once`` looks at every witnessed log with a base URL (a worker runs
    it every ``checkpoint_interval``). One HTTP client for its life; ``transport`` is for tests."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        keystore: KeyStore,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.database, self.settings, self.keystore = database, settings, keystore
        self.client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(settings.witness_timeout),
            headers={"User-Agent": f"puhui-hub/{__version__} (witness monitor)"},
        )
        self._until = math.inf  # the current log's check ends by then (``CHECK_BUDGET``)

    def close(self) -> None:
        self.client.close()

    def run_once(self) -> int:
        """Look at every monitored log; 0 (the worker then waits its interval)."""
        for outcome in self.check_all():
            if outcome.status in (SPLIT_VIEW, REFUSED, UNREACHABLE):
                log.warning("witnessed log %s: %s: %s", outcome.origin, outcome.status, outcome.detail)
        return 0

    def check_all(self) -> list[MonitorOutcome]:
        with self.database.unit_of_work() as session:
            targets = [
                (found.origin, found.base_url)
                for found in WitnessRepository(session).logs(active_only=True)
                if found.base_url
            ]
        outcomes = []
        for origin, base_url in targets:
            try:
                outcomes.append(self.check(origin, str(base_url)))
            except Exception as exc:  # one log's failure never stops the others
                log.exception("monitoring %s failed", origin)
                outcomes.append(MonitorOutcome(origin, UNREACHABLE, f"{type(exc).__name__}: {exc}"))
        return outcomes

    def check(self, origin: str, base_url: str) -> MonitorOutcome:
        # the logs are checked one after another: a slow one must not hold the others up
        self._until = time.monotonic() + CHECK_BUDGET * self.settings.witness_timeout
        with self.database.unit_of_work() as session:
            repository = WitnessRepository(session)
            found = repository.log(origin)
            if found is None or not found.active:
                return MonitorOutcome(origin, REFUSED, "not witnessed")
            keys = stored_keys(found)
            stored = repository.latest(origin)
        try:
            text = self._get(f"{base_url}/log/checkpoint", MAX_CHECKPOINT).decode("utf-8")
            note = parse_note(text)
            checkpoint = Checkpoint.parse(note.text)
        except (httpx.HTTPError, UnicodeDecodeError) as exc:
            return MonitorOutcome(origin, UNREACHABLE, f"checkpoint: {type(exc).__name__}: {exc}")
        except NoteError as exc:
            return MonitorOutcome(origin, REFUSED, f"the checkpoint is malformed: {exc}")
        if checkpoint.origin != origin:
            return MonitorOutcome(origin, REFUSED, f"the checkpoint's origin is {checkpoint.origin}")
        try:
            open_note(note, keys)
        except NoteError as exc:
            return MonitorOutcome(origin, REFUSED, f"the checkpoint's signature: {exc}")
        old = int(stored.size) if stored is not None else 0
        if checkpoint.size < old:
            return self._behind(origin, base_url, checkpoint, note.render(), stored)
        try:
            proof = self.consistency(base_url, old, checkpoint.size) if 0 < old < checkpoint.size else []
        except ProofUnavailable as exc:
            return MonitorOutcome(origin, UNREACHABLE, str(exc), checkpoint.size)
        with self.database.unit_of_work() as session:
            answer = Witness(session, self.settings, self.keystore).submit(
                AddCheckpoint(old, tuple(proof), note), source=MONITORED
            )
        if answer.verdict is Verdict.COSIGN:
            if checkpoint.size == old and stored is not None:
                return self._current(origin, base_url, checkpoint, note.render(), stored)
            return MonitorOutcome(origin, ADVANCED, answer.reason, checkpoint.size)
        if answer.verdict.evidence:
            return MonitorOutcome(origin, SPLIT_VIEW, answer.reason, checkpoint.size, answer.evidence_id)
        return MonitorOutcome(origin, REFUSED, answer.reason, checkpoint.size)

    def _behind(
        self, origin: str, base_url: str, checkpoint: Checkpoint, note: str, stored: Any
    ) -> MonitorOutcome:
        """The log serves a checkpoint older than the one cosigned: it must be a prefix of it."""
        size, root, stored_note = int(stored.size), bytes(stored.root_hash), str(stored.note)
        if checkpoint.size == 0:
            return MonitorOutcome(origin, BEHIND, "an empty tree", 0)
        try:
            proof = self.consistency(base_url, checkpoint.size, size)
        except ProofUnavailable as exc:
            return MonitorOutcome(origin, UNREACHABLE, str(exc), checkpoint.size)
        if verify_consistency(checkpoint.size, size, checkpoint.root_hash, root, proof):
            return MonitorOutcome(
                origin, BEHIND, f"an older checkpoint, a prefix of size {size}", checkpoint.size
            )
        with self.database.unit_of_work() as session:
            logs = WitnessedLogs(session)
            evidence = logs.keep_evidence(
                origin=origin,
                kind=BAD_PROOF,
                source=MONITORED,
                reporter=Witness(session, self.settings, self.keystore).name,
                stored=(size, root, stored_note),
                refused=checkpoint,
                refused_note=note,
                proof=proof,
                old_size=checkpoint.size,
            )
        detail = f"the older checkpoint of size {checkpoint.size} is not a prefix of the cosigned one"
        return MonitorOutcome(origin, SPLIT_VIEW, detail, checkpoint.size, evidence)

    def _current(
        self, origin: str, base_url: str, checkpoint: Checkpoint, note: str, stored: Any
    ) -> MonitorOutcome:
        """No new checkpoint: do the log's tiles still give its signed root? A hub whose stored log
        was rewritten refuses to sign (7010) yet serves the rewritten tiles: caught here. Tiles
        that cannot be fetched prove nothing either way."""
        if checkpoint.size == 0:
            return MonitorOutcome(origin, CURRENT, "an empty tree", 0)
        try:
            tiles = TileHashes(lambda path: self._get(f"{base_url}/log/{path}", MAX_TILE), checkpoint.size)
            served = range_hash(0, checkpoint.size, tiles)
        except (httpx.HTTPError, TileError, KeyError):
            return MonitorOutcome(
                origin, CURRENT, "no new checkpoint (its tiles were not checked)", checkpoint.size
            )
        if served == checkpoint.root_hash:
            return MonitorOutcome(
                origin, CURRENT, "no new checkpoint; its tiles give its root", checkpoint.size
            )
        with self.database.unit_of_work() as session:
            evidence = WitnessedLogs(session).keep_evidence(
                origin=origin,
                kind=TILES_DISAGREE,
                source=MONITORED,
                reporter=Witness(session, self.settings, self.keystore).name,
                stored=(int(stored.size), bytes(stored.root_hash), str(stored.note)),
                refused=Checkpoint(origin, checkpoint.size, served),
                refused_note=f"{base_url}/log/tile/ at size {checkpoint.size} give the root {b64(served)}\n",
                proof=[served],
                old_size=checkpoint.size,
            )
        detail = (
            f"the tiles at size {checkpoint.size} do not give the signed root: the stored log was rewritten"
        )
        return MonitorOutcome(origin, SPLIT_VIEW, detail, checkpoint.size, evidence)

    def consistency(self, base_url: str, first: int, second: int) -> list[bytes]:
        """The consistency proof from ``first`` to ``second`` (0 < first <= second): from the log's
        tiles, else from its proof API. Either way it is checked against the signed roots after."""
        try:
            tiles = TileHashes(lambda path: self._get(f"{base_url}/log/{path}", MAX_TILE), second)
            return [range_hash(start, end, tiles) for start, end in consistency_ranges(first, second)]
        except (httpx.HTTPError, TileError, KeyError) as exc:
            log.info("no tiles from %s (%s); asking its proof API", base_url, exc)
        try:
            # read like the checkpoint and tiles: capped and within the deadline, never whole first
            data = self._get(
                f"{base_url}/v1/log/proofs/consistency?first={int(first)}&second={int(second)}",
                MAX_PROOF_JSON,
            )
            path = json.loads(data)["consistency_path"]
            return [bytes.fromhex(node) for node in path]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise ProofUnavailable(
                f"no consistency proof {first}..{second}: {type(exc).__name__}: {exc}"
            ) from exc

    def _get(self, url: str, limit: int) -> bytes:
        """The body of ``url``: at most ``limit`` bytes, within twice the timeout in all (a server
        trickling bytes is given up on)."""
        now = time.monotonic()
        if now > self._until:
            raise httpx.ReadTimeout(f"the check of this log ran out of time before {url}")
        deadline = min(now + 2 * self.settings.witness_timeout, self._until)
        with self.client.stream("GET", url) as response:
            response.raise_for_status()
            return read_bounded(response, limit, deadline)
