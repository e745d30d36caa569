"""Offline proofs of inclusion (c2sp.org/tlog-proof): the entry's index, its RFC 6962 inclusion
path, and the log's cosigned checkpoint, with optional unauthenticated ``extra`` data (here: the
log entry's bytes, so the leaf can be recomputed). Pure.

    c2sp.org/tlog-proof@v1
    extra <base64>
    index <n>
    <base64 hash>...

    <checkpoint note>
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transparency.merkle import leaf_hash, verify_inclusion
from transparency.note import Note, NoteError, b64, parse_note, unb64
from transparency.policy import CheckpointVerification, Policy, check_checkpoint

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PATH = 63
EXTENSION = ".tlog-proof"


class ProofError(ValueError):
    """A proof that does not parse or does not verify."""


@dataclass(frozen=True, slots=True)
class TlogProof:
    index: int
    path: tuple[bytes, ...]
    checkpoint: Note
    extra: bytes | None = None

    def render(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines += [b64(node) for node in self.path]
        return "\n".join(lines) + "\n\n" + self.checkpoint.render()


def parse_proof(data: str | bytes) -> TlogProof:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProofError("a proof is UTF-8 text") from exc
    head, sep, rest = data.partition("\n\n")
    if not sep:
        raise ProofError("the inclusion path and the checkpoint are separated by a blank line")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise ProofError(f"a proof starts with {HEADER}")
    at, extra = 1, None
    try:
        if at < len(lines) and lines[at].startswith("extra "):
            extra, at = unb64(lines[at][6:], what="the extra data"), at + 1
        if at >= len(lines) or not lines[at].startswith("index "):
            raise ProofError("a proof names the entry's index")
        digits = lines[at][6:]
        if not digits.isascii() or not digits.isdigit() or (digits != "0" and digits.startswith("0")):
            raise ProofError("the index is a decimal without leading zeroes")
        if len(digits) > 19:  # 2^63-1; int() of thousands of digits raises a bare ValueError
            raise ProofError("the index is at most 2^63-1")
        path = tuple(unb64(line, what="a proof hash") for line in lines[at + 1 :])
        checkpoint = parse_note(rest)
    except NoteError as exc:
        raise ProofError(str(exc)) from exc
    if len(path) > MAX_PATH or any(len(node) != 32 for node in path):
        raise ProofError("the inclusion path holds at most 63 SHA-256 hashes")
    return TlogProof(int(digits), path, checkpoint, extra)


@dataclass(frozen=True)
class ProofVerification:
    """The result of checking a proof (never raises): the checkpoint's, then the inclusion's."""

    proof: TlogProof | None
    checkpoint: CheckpointVerification | None
    included: bool
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_proof(
    data: str | bytes | TlogProof, entry: bytes | None, policy: Policy, *, origin: str | None = None
) -> ProofVerification:
    """Check that ``entry`` (default: the proof's extra data) is at the proof's index in a checkpoint
    signed by a policy log and cosigned by the policy's quorum."""
    try:
        proof = data if isinstance(data, TlogProof) else parse_proof(data)
    except ProofError as exc:
        return ProofVerification(None, None, False, (str(exc),))
    entry = proof.extra if entry is None else entry
    checked = check_checkpoint(proof.checkpoint, policy, origin=origin)
    problems = list(checked.problems)
    included = False
    if entry is None:
        problems.append("no entry to check (the proof carries no extra data)")
    elif checked.checkpoint is not None:
        tree = checked.checkpoint
        if proof.index >= tree.size:
            problems.append(f"index {proof.index} is not below the checkpoint's size {tree.size}")
        else:
            included = verify_inclusion(
                leaf_hash(entry), proof.index, tree.size, list(proof.path), tree.root_hash
            )
            if not included:
                problems.append(f"the entry is not at index {proof.index} of the checkpointed tree")
    return ProofVerification(proof, checked, included, tuple(problems))


def verify_proof(
    data: str | bytes | TlogProof, entry: bytes | None, policy: Policy, *, origin: str | None = None
) -> ProofVerification:
    result = check_proof(data, entry, policy, origin=origin)
    if not result.ok:
        raise ProofError("; ".join(result.problems))
    return result


def make_proof(index: int, path: Sequence[bytes], checkpoint: Note, extra: bytes | None = None) -> TlogProof:
    return TlogProof(index, tuple(path), checkpoint, extra)
