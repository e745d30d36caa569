"""The witness (c2sp.org/tlog-witness): judge an ``add-checkpoint`` request against the latest
checkpoint cosigned for its origin, store the new one by compare-and-swap, cosign it
(c2sp.org/tlog-cosignature) — or refuse, and when the refusal is evidence of a split view (the same
size with another root, or a consistency proof that fails from the cosigned checkpoint) keep the
evidence, log the event and raise the alarm that the console shows until an administrator
acknowledges it.

The judgement is ``transparency.witness.judge`` (pure); this module applies it. The check of the
old size and the store of the new checkpoint are one conditional UPDATE (``WHERE size = :old AND
root_hash = :root``): a request that lost a race re-reads the stored checkpoint and is judged
again, so concurrent requests from several hub processes never roll the stored size back.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from hub.identity import witness_signers
from hub.keystore import KeyStore
from hub.log.changes import record_change
from hub.models import utcnow
from hub.problems import BadRequest, NotFound
from hub.settings import Settings
from hub.witness.models import WitnessedLog, WitnessEvidence
from hub.witness.repository import WitnessRepository
from transparency.checkpoint import Checkpoint
from transparency.note import ED25519, NoteError, Verifier, b64, parse_vkey
from transparency.witness import (
    AddCheckpoint,
    Judgement,
    Latest,
    Verdict,
    WitnessError,
    judge,
    parse_add_checkpoint,
)

MALFORMED = "7020"
UNKNOWN_ORIGIN = "7021"
SIGNATURE_INVALID = "7022"
OLD_SIZE_STALE = "7023"
SPLIT_VIEW = "7024"
PROOF_FAILED = "7025"
LOG_INVALID = "7026"
ALARM_UNKNOWN = "7027"

SIZE_MEDIA_TYPE = "text/x.tlog.size"
COSIGNATURES_MEDIA_TYPE = "text/plain; charset=utf-8"
EVENT = "witness.split_view_detected"
MAX_VKEYS = 16
MAX_ORIGIN = 255
MAX_TREE = (1 << 53) - 1  # the log's canonical JSON holds integers up to 2^53-1 (RFC 8785)

# where a checkpoint came from
SUBMITTED = "submitted"  # a log's add-checkpoint request
MONITORED = "monitored"  # fetched from the log by this hub's monitor
COLLECTED = "collected"  # a witness refused OUR checkpoint as inconsistent with what it cosigned

# kinds of evidence
SAME_SIZE = "same-size-other-root"
BAD_PROOF = "inconsistent-proof"
TILES_DISAGREE = "tiles-disagree"  # (monitoring) the log's tiles do not give its signed root

CODES = {
    Verdict.MALFORMED: MALFORMED,
    Verdict.BAD_SIGNATURE: SIGNATURE_INVALID,
    Verdict.UNKNOWN_ORIGIN: UNKNOWN_ORIGIN,
    Verdict.STALE: OLD_SIZE_STALE,
    Verdict.FORK_SAME_SIZE: SPLIT_VIEW,
    Verdict.BAD_PROOF: PROOF_FAILED,
}
KINDS = {Verdict.FORK_SAME_SIZE: SAME_SIZE, Verdict.BAD_PROOF: BAD_PROOF}


@dataclass(frozen=True, slots=True)
class WitnessAnswer:
    """The answer to an add-checkpoint request, as the protocol has it: 200 with cosignature lines,
    409 with the known size (``text/x.tlog.size``), or a refusal with its status and reason."""

    verdict: Verdict
    reason: str
    body: str = ""
    checkpoint: Checkpoint | None = None
    known_size: int | None = None
    evidence_id: int | None = None

    @property
    def status(self) -> int:
        return self.verdict.status

    @property
    def code(self) -> str | None:
        return CODES.get(self.verdict)

    @property
    def media_type(self) -> str:
        if self.verdict is Verdict.COSIGN:
            return COSIGNATURES_MEDIA_TYPE
        if self.verdict is Verdict.STALE:
            return SIZE_MEDIA_TYPE
        return "application/problem+json"


def _invalid(detail: str, field: str) -> BadRequest:
    return BadRequest(
        detail, code=LOG_INVALID, errors=[{"pointer": f"/{field}", "code": LOG_INVALID, "detail": detail}]
    )


def check_origin(origin: str) -> str:
    if (
        not origin
        or len(origin) > MAX_ORIGIN
        or any(ch.isspace() or ord(ch) < 0x20 or ch == "+" for ch in origin)
    ):
        raise _invalid("an origin is one line of at most 255 characters, without spaces or '+'", "origin")
    return origin


def log_keys(origin: str, vkeys: Iterable[str]) -> list[Verifier]:
    """The log's note keys from their vkeys: Ed25519 (type 0x01), named after the origin
    (c2sp.org/tlog-checkpoint, c2sp.org/tlog-policy), distinct, at least one."""
    verifiers: list[Verifier] = []
    for position, vkey in enumerate(vkeys):
        try:
            verifier = parse_vkey(vkey)
        except NoteError as exc:
            raise _invalid(f"vkey {position + 1}: {exc}", f"vkeys/{position}") from exc
        if verifier.signature_type != ED25519 or verifier.name != origin:
            raise _invalid(
                f"vkey {position + 1} is not an Ed25519 note key named {origin}", f"vkeys/{position}"
            )
        if any(known.public == verifier.public for known in verifiers):
            raise _invalid(f"vkey {position + 1} repeats a key", f"vkeys/{position}")
        verifiers.append(verifier)
    if not 1 <= len(verifiers) <= MAX_VKEYS:
        raise _invalid(f"a log has 1 to {MAX_VKEYS} vkeys", "vkeys")
    return verifiers


def check_base_url(base_url: str | None) -> str | None:
    if base_url is None or base_url == "":
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise _invalid("the base URL is an http(s) URL without query or fragment", "base_url")
    if parts.username is not None or parts.password is not None:  # it is published (GET /log/policy)
        raise _invalid("the base URL holds no user name or password: it is published", "base_url")
    return base_url.rstrip("/")


def stored_keys(log: WitnessedLog) -> list[Verifier]:
    return [parse_vkey(line) for line in log.vkeys.split("\n") if line]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n\x00".join(parts).encode("utf-8")).hexdigest()


class WitnessedLogs:
    """The logs this hub witnesses, and the alarms of split views (both for administrators)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repository = WitnessRepository(session)

    def listing(self) -> list[WitnessedLog]:
        return self.repository.logs()

    def get(self, origin: str) -> WitnessedLog:
        found = self.repository.log(origin)
        if found is None or not found.active:
            raise NotFound(f"this hub does not witness {origin}", code=UNKNOWN_ORIGIN)
        return found

    def trust(
        self, origin: str, vkeys: Sequence[str], actor: str, *, base_url: str | None = None
    ) -> WitnessedLog:
        """Witness ``origin`` signed by ``vkeys`` (replacing its keys if it was witnessed); logged.
        The latest cosigned checkpoint is kept: a log trusted again continues from it."""
        check_origin(origin)
        keys = log_keys(origin, vkeys)
        url = check_base_url(base_url)
        text = "\n".join(key.vkey for key in keys)
        added = self.repository.put_log(origin, text, url, actor, utcnow())
        record_change(
            self.session,
            "witness.log_trusted" if added else "witness.log_keys_replaced",
            subject=("witnessed-log", origin),
            actor=actor,
            data={"origin": origin, "vkeys": [key.vkey for key in keys], "base_url": url},
        )
        return self.get(origin)

    def remove(self, origin: str, actor: str) -> WitnessedLog:
        """Stop witnessing ``origin`` (its latest checkpoint is kept, should it come back)."""
        found = self.get(origin)
        self.repository.deactivate(origin, utcnow())
        record_change(
            self.session, "witness.log_removed", subject=("witnessed-log", origin), actor=actor, data={}
        )
        return found

    def alarms(self, *, open_only: bool = True, limit: int = 100) -> list[WitnessEvidence]:
        return self.repository.evidence(open_only=open_only, limit=limit)

    def open_alarms(self) -> int:
        return self.repository.open_alarms()

    def acknowledge(self, evidence_id: int, actor: str) -> WitnessEvidence:
        if not self.repository.acknowledge(evidence_id, actor, utcnow()):
            raise NotFound(f"no open witness alarm {evidence_id}", code=ALARM_UNKNOWN)
        record_change(
            self.session,
            "witness.alarm_acknowledged",
            subject=("witness-evidence", str(evidence_id)),
            actor=actor,
            data={},
        )
        found = self.repository.evidence_row(evidence_id)
        assert found is not None
        return found

    def keep_evidence(
        self,
        *,
        origin: str,
        kind: str,
        source: str,
        reporter: str,
        stored: tuple[int, bytes, str] | None,
        refused: Checkpoint | None,
        refused_note: str,
        proof: Sequence[bytes],
        old_size: int | None = None,
        answer: str | None = None,
    ) -> int | None:
        """Keep the evidence of a split view, log the event and raise the alarm — once per origin,
        kind, reporter, cosigned checkpoint and old size; the evidence row's id, or None when it
        was kept before.
        ``stored`` is the witness's cosigned (size, root, note); when another witness reports on our
        own log it is unknown, and ``answer`` (that witness's answer) is kept in its place."""
        stored_size, stored_root, stored_note = stored if stored is not None else (None, None, answer or "")
        # one alarm per disagreement with a given cosigned checkpoint (a log that keeps forking
        # raises one alarm, not one per interval); the refused note is kept from the first
        # A witness's report on our own log (``stored`` None) is unsigned, and its wording and the
        # old size (named in its own 409) are the witness's to vary, while each alarm is a log entry
        # that makes another checkpoint for it to refuse: one alarm per witness and kind.
        if stored is None:
            digest = _digest(origin, kind, reporter, stored_note.split("\n", 1)[0])
        else:
            digest = _digest(origin, kind, reporter, stored_note, str(old_size))
        values: dict[str, Any] = {
            "origin": origin,
            "kind": kind,
            "source": source,
            "reporter": reporter,
            "stored_size": stored_size,
            "stored_root": stored_root,
            "stored_note": stored_note,
            "refused_size": refused.size if refused else None,
            "refused_root": refused.root_hash if refused else None,
            "refused_note": refused_note,
            "proof": (f"old {old_size}\n" if old_size is not None else "")
            + "".join(f"{b64(h)}\n" for h in proof),
            "digest": digest,
            "received_at": utcnow(),
        }
        evidence_id = self.repository.add_evidence(values)
        if evidence_id is None:
            return None
        record_change(
            self.session,
            EVENT,
            subject=("witnessed-log", origin),
            actor=reporter,
            data={
                "origin": origin,
                "kind": kind,
                "source": source,
                "evidence_id": evidence_id,
                "stored_size": stored_size,
                "stored_root": b64(stored_root) if stored_root else None,
                "refused_size": refused.size if refused else None,
                "refused_root": b64(refused.root_hash) if refused else None,
            },
        )
        return evidence_id


def trust_log(
    session: Session, origin: str, vkeys: Sequence[str], actor: str, *, base_url: str | None = None
) -> WitnessedLog:
    """Witness ``origin`` (the peering registration calls this with the peer's log vkey and base
    URL); raises ``BadRequest`` 7026 for an invalid origin, vkey or URL."""
    return WitnessedLogs(session).trust(origin, vkeys, actor, base_url=base_url)


class Witness:
    """The add-checkpoint endpoint's work, in the request's unit of work."""

    def __init__(self, session: Session, settings: Settings, keystore: KeyStore) -> None:
        self.session, self.settings, self.keystore = session, settings, keystore
        self.repository = WitnessRepository(session)
        self.logs = WitnessedLogs(session)

    @property
    def name(self) -> str:
        """Who reports what this witness saw (its own key name)."""
        return witness_signers(self.settings, self.keystore)[0].name

    def add_checkpoint(self, body: bytes, *, source: str = SUBMITTED) -> WitnessAnswer:
        try:
            request = parse_add_checkpoint(body)
        except WitnessError as exc:
            return WitnessAnswer(Verdict.MALFORMED, str(exc))
        return self.submit(request, source=source)

    def submit(self, request: AddCheckpoint, *, source: str = SUBMITTED) -> WitnessAnswer:
        for _ in range(8):  # each turn: a compare-and-swap lost to a concurrent request
            answer = self._attempt(request, source)
            if answer is not None:
                return answer
        return WitnessAnswer(Verdict.STALE, "the checkpoint kept moving", known_size=self._known(request))

    def _known(self, request: AddCheckpoint) -> int:
        try:
            origin = Checkpoint.parse(request.note.text).origin
        except NoteError:
            return 0
        found = self.repository.latest(origin)
        return int(found.size) if found is not None else 0

    def _attempt(self, request: AddCheckpoint, source: str) -> WitnessAnswer | None:
        try:
            parsed = Checkpoint.parse(request.note.text)
        except NoteError as exc:
            return WitnessAnswer(Verdict.MALFORMED, str(exc))
        if parsed.size > MAX_TREE:  # its fork's event could not be logged (JSON integers): refused
            return WitnessAnswer(
                Verdict.MALFORMED, f"this witness cosigns trees of at most {MAX_TREE} entries"
            )
        origin = parsed.origin
        log = self.repository.log(origin)
        keys = {origin: stored_keys(log)} if log is not None and log.active else {}
        stored = self.repository.latest(origin)
        latest = Latest(int(stored.size), bytes(stored.root_hash)) if stored is not None else None
        judgement = judge(request, keys, latest)
        checkpoint = judgement.checkpoint
        if judgement.verdict is Verdict.COSIGN:
            assert checkpoint is not None
            if not self._store(request, checkpoint, stored):
                return None
            return WitnessAnswer(Verdict.COSIGN, judgement.reason, self._cosign(checkpoint), checkpoint)
        # two checkpoints that disagree (a non-empty proof from size 0 is refused, but is no fork)
        disagrees = judgement.verdict is Verdict.FORK_SAME_SIZE or request.old_size > 0
        if judgement.verdict.evidence and stored is not None and disagrees:
            assert checkpoint is not None
            evidence_id = self.logs.keep_evidence(
                origin=origin,
                kind=KINDS[judgement.verdict],
                source=source,
                reporter=self.name,
                stored=(int(stored.size), bytes(stored.root_hash), stored.note),
                refused=checkpoint,
                refused_note=request.note.render(),
                proof=request.proof,
                old_size=request.old_size,
            )
            return self._refusal(judgement, evidence_id)
        return self._refusal(judgement, None)

    def _store(self, request: AddCheckpoint, checkpoint: Checkpoint, stored: Any | None) -> bool:
        note, at = request.note.render(), utcnow()
        if stored is None:
            return self.repository.create(checkpoint.origin, checkpoint.size, checkpoint.root_hash, note, at)
        if checkpoint.size == stored.size:  # the same tree: still the latest? (nothing to move)
            return self.repository.advance(
                checkpoint.origin,
                stored.size,
                stored.root_hash,
                stored.size,
                stored.root_hash,
                stored.note,
                at,
            )
        return self.repository.advance(
            checkpoint.origin, stored.size, stored.root_hash, checkpoint.size, checkpoint.root_hash, note, at
        )

    def _cosign(self, checkpoint: Checkpoint) -> str:
        stamp = int(time.time())
        signers = witness_signers(self.settings, self.keystore)
        return "".join(signer.sign(checkpoint.text(), timestamp=stamp).line() for signer in signers)

    @staticmethod
    def _refusal(judgement: Judgement, evidence_id: int | None) -> WitnessAnswer:
        return WitnessAnswer(
            judgement.verdict,
            judgement.reason,
            f"{judgement.known_size}\n" if judgement.verdict is Verdict.STALE else "",
            judgement.checkpoint,
            judgement.known_size,
            evidence_id,
        )


def describe(evidence: WitnessEvidence) -> dict[str, Any]:
    """The evidence as the API and the console show it."""
    return {
        "id": evidence.id,
        "origin": evidence.origin,
        "kind": evidence.kind,
        "source": evidence.source,
        "reporter": evidence.reporter,
        "stored_size": evidence.stored_size,
        "stored_root": b64(evidence.stored_root) if evidence.stored_root else None,
        "stored_note": evidence.stored_note,
        "refused_size": evidence.refused_size,
        "refused_root": b64(evidence.refused_root) if evidence.refused_root else None,
        "refused_note": evidence.refused_note,
        "proof": evidence.proof,
        "received_at": evidence.received_at,
        "acknowledged_at": evidence.acknowledged_at,
        "acknowledged_by": evidence.acknowledged_by,
    }
