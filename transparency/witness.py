"""A witness's judgement of an ``add-checkpoint`` request (c2sp.org/tlog-witness), as a pure
function of the request, the log keys it trusts and the latest checkpoint it cosigned for the
origin. The caller applies the verdict atomically (compare-and-swap on the stored size).

    old <size>
    <base64 consistency proof hash>...

    <checkpoint note>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from transparency.checkpoint import Checkpoint
from transparency.merkle import verify_consistency
from transparency.note import Note, NoteError, Verifier, b64, open_note, parse_note, unb64

MAX_PROOF = 63
MAX_BODY = 64 * 1024
MAX_DIGITS = 19  # 2^63-1


class WitnessError(ValueError):
    """A request body that is not an add-checkpoint request (400)."""


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: Note

    def render(self) -> str:
        lines = [f"old {self.old_size}", *(b64(node) for node in self.proof)]
        return "\n".join(lines) + "\n\n" + self.note.render()


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    if len(body) > MAX_BODY:
        raise WitnessError("the request is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WitnessError("the request is UTF-8 text") from exc
    head, sep, rest = text.partition("\n\n")
    if not sep:
        raise WitnessError("the proof and the checkpoint are separated by a blank line")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise WitnessError("the request starts with an 'old <size>' line")
    digits = lines[0][4:]
    if not digits.isascii() or not digits.isdigit() or (digits != "0" and digits.startswith("0")):
        raise WitnessError("the old size is a decimal without leading zeroes")
    if len(digits) > MAX_DIGITS:  # int() of thousands of digits raises a bare ValueError
        raise WitnessError("the old size is at most 2^63-1")
    if len(lines) - 1 > MAX_PROOF:
        raise WitnessError(f"at most {MAX_PROOF} consistency proof lines")
    try:
        proof = tuple(unb64(line, what="a proof hash") for line in lines[1:])
        note = parse_note(rest)
    except NoteError as exc:
        raise WitnessError(str(exc)) from exc
    if any(len(node) != 32 for node in proof):
        raise WitnessError("proof hashes are 32 bytes")
    return AddCheckpoint(int(digits), proof, note)


class Verdict(Enum):
    COSIGN = 200
    MALFORMED = 400
    BAD_SIGNATURE = 403
    UNKNOWN_ORIGIN = 404
    STALE = 409  # the old size is not the witness's latest size: answer it
    FORK_SAME_SIZE = 4090  # same size, another root: two signed checkpoints disagree (409)
    BAD_PROOF = 422  # the checkpoint is not consistent with the latest one: evidence of a fork

    @property
    def status(self) -> int:
        return 409 if self is Verdict.FORK_SAME_SIZE else self.value

    @property
    def evidence(self) -> bool:
        return self in (Verdict.FORK_SAME_SIZE, Verdict.BAD_PROOF)


@dataclass(frozen=True, slots=True)
class Latest:
    size: int
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    reason: str
    checkpoint: Checkpoint | None = None
    known_size: int | None = None


def judge(request: AddCheckpoint, logs: Mapping[str, Sequence[Verifier]], latest: Latest | None) -> Judgement:
    """The witness's verdict on ``request``; ``logs`` maps origins to their trusted keys."""
    try:
        checkpoint = Checkpoint.parse(request.note.text)
    except NoteError as exc:
        return Judgement(Verdict.MALFORMED, str(exc))
    keys = logs.get(checkpoint.origin)
    if not keys:
        return Judgement(Verdict.UNKNOWN_ORIGIN, f"unknown origin {checkpoint.origin}", checkpoint)
    try:
        open_note(request.note, keys)
    except NoteError as exc:
        return Judgement(Verdict.BAD_SIGNATURE, str(exc), checkpoint)
    if request.old_size > checkpoint.size:
        return Judgement(Verdict.MALFORMED, "the old size is above the checkpoint's size", checkpoint)
    known = latest.size if latest is not None else 0
    if request.old_size != known:
        return Judgement(Verdict.STALE, f"the latest cosigned size is {known}", checkpoint, known)
    if latest is None or request.old_size == 0:
        if request.proof:
            return Judgement(Verdict.BAD_PROOF, "the proof from size 0 is empty", checkpoint)
        return Judgement(Verdict.COSIGN, "first checkpoint of the origin", checkpoint)
    if checkpoint.size == latest.size:
        if checkpoint.root_hash != latest.root_hash:
            return Judgement(Verdict.FORK_SAME_SIZE, "same size, another root", checkpoint, known)
        return Judgement(Verdict.COSIGN, "the same tree", checkpoint)
    if not verify_consistency(
        latest.size, checkpoint.size, latest.root_hash, checkpoint.root_hash, list(request.proof)
    ):
        return Judgement(Verdict.BAD_PROOF, "the consistency proof does not verify", checkpoint, known)
    return Judgement(Verdict.COSIGN, "consistent", checkpoint)
