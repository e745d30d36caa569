"""Trust policies (c2sp.org/tlog-policy): which logs are trusted, which witnesses, and the quorum of
cosignatures a checkpoint needs; and the check of a cosigned checkpoint against one. Pure.

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> all|any|<k> <member>...
    quorum <name>|none
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transparency.checkpoint import Checkpoint
from transparency.note import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    NoteError,
    Verifier,
    open_note,
    parse_note,
    parse_vkey,
)

NONE = "none"
MAX_ITEMS = 64


class PolicyError(ValueError):
    """A policy file that does not parse, or a checkpoint that does not satisfy a policy."""


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    logs: tuple[tuple[Verifier, str | None], ...] = ()
    witnesses: dict[str, tuple[Verifier, str | None]] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = NONE

    def log_verifiers(self, origin: str | None = None) -> list[Verifier]:
        return [v for v, _ in self.logs if origin is None or v.name == origin]

    def witness_verifiers(self) -> list[Verifier]:
        return [v for v, _ in self.witnesses.values()]

    def witnessed(self, name: str, cosigned: set[str]) -> bool:
        """Whether witness or group ``name`` has witnessed, given the witness names that cosigned."""
        if name == NONE:
            return True
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self.witnessed(member, cosigned) for member in group.members) >= group.threshold

    def satisfied(self, cosigned: set[str]) -> bool:
        return self.witnessed(self.quorum, cosigned)

    def render(self) -> str:
        lines = [f"log {v.vkey}" + (f" {url}" if url else "") for v, url in self.logs]
        lines += [
            f"witness {n} {v.vkey}" + (f" {url}" if url else "") for n, (v, url) in self.witnesses.items()
        ]
        lines += [f"group {g.name} {g.threshold} {' '.join(g.members)}" for g in self.groups.values()]
        return "\n".join([*lines, f"quorum {self.quorum}"]) + "\n"


def parse_policy(text: str) -> Policy:
    logs: list[tuple[Verifier, str | None]] = []
    witnesses: dict[str, tuple[Verifier, str | None]] = {}
    groups: dict[str, Group] = {}
    quorum: str | None = None
    keys: set[bytes] = set()
    for number, raw in enumerate(text.split("\n"), 1):
        words = raw.replace("\t", " ").split()
        if not words or words[0].startswith("#"):
            continue
        where = f"line {number}"
        try:
            kind, args = words[0], words[1:]
            if kind == "log" and len(args) in (1, 2):
                verifier = parse_vkey(args[0])
                if verifier.signature_type != ED25519 or verifier.public in keys:
                    raise PolicyError(f"{where}: a log key is a new Ed25519 (type 0x01) vkey")
                keys.add(verifier.public)
                logs.append((verifier, args[1] if len(args) == 2 else None))
            elif kind == "witness" and len(args) in (2, 3):
                name, verifier = args[0], parse_vkey(args[1])
                if name == NONE or name in witnesses or name in groups:
                    raise PolicyError(f"{where}: the name {name!r} is taken")
                if verifier.signature_type != COSIGNATURE_V1 or verifier.public in keys:
                    raise PolicyError(f"{where}: a witness key is a new cosignature (type 0x04) vkey")
                keys.add(verifier.public)
                witnesses[name] = (verifier, args[2] if len(args) == 3 else None)
            elif kind == "group" and len(args) >= 3:
                name, k, members = args[0], args[1], tuple(args[2:])
                if name == NONE or name in witnesses or name in groups:
                    raise PolicyError(f"{where}: the name {name!r} is taken")
                if len(set(members)) != len(members) or any(
                    m not in witnesses and m not in groups for m in members
                ):
                    raise PolicyError(f"{where}: members are distinct names defined above")
                threshold = {"all": len(members), "any": 1}.get(k)
                if threshold is None:
                    if not k.isdigit() or not 1 <= int(k) <= len(members):
                        raise PolicyError(f"{where}: the threshold is all, any or 1..{len(members)}")
                    threshold = int(k)
                groups[name] = Group(name, threshold, members)
            elif kind == "quorum" and len(args) == 1:
                if quorum is not None:
                    raise PolicyError(f"{where}: one quorum line only")
                if args[0] != NONE and args[0] not in witnesses and args[0] not in groups:
                    raise PolicyError(f"{where}: the quorum names a witness or group defined above")
                quorum = args[0]
            else:
                raise PolicyError(f"{where}: not a log, witness, group or quorum line")
        except NoteError as exc:
            raise PolicyError(f"{where}: {exc}") from exc
        if len(logs) + len(witnesses) + len(groups) > MAX_ITEMS:
            raise PolicyError(f"more than {MAX_ITEMS} logs, witnesses and groups")
    if quorum is None:
        raise PolicyError("a policy has a quorum line")
    return Policy(tuple(logs), witnesses, groups, quorum)


@dataclass(frozen=True)
class CheckpointVerification:
    """The result of checking a cosigned checkpoint against a policy (never raises)."""

    checkpoint: Checkpoint | None
    note: Note | None
    cosigned_by: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.checkpoint is not None and not self.problems


def check_checkpoint(
    data: str | bytes | Note, policy: Policy, *, origin: str | None = None
) -> CheckpointVerification:
    """Verify the log's signature (a policy log whose name is the origin) and the witness quorum."""
    try:
        note = data if isinstance(data, Note) else parse_note(data)
        checkpoint = Checkpoint.parse(note.text)
    except NoteError as exc:
        return CheckpointVerification(None, None, problems=(str(exc),))
    problems: list[str] = []
    if origin is not None and checkpoint.origin != origin:
        problems.append(f"the checkpoint's origin is {checkpoint.origin}, not {origin}")
    logs = policy.log_verifiers(checkpoint.origin)
    try:
        open_note(note, logs)
    except NoteError as exc:
        problems.append(f"log signature: {exc}")
    by_key = {
        verifier.key_id + verifier.name.encode(): name for name, (verifier, _) in policy.witnesses.items()
    }
    try:
        opened = open_note(note, policy.witness_verifiers(), require=False)
    except NoteError as exc:
        problems.append(f"cosignature: {exc}")
        return CheckpointVerification(checkpoint, note, problems=tuple(problems))
    cosigned = frozenset(by_key[v.key_id + v.name.encode()] for v, _ in opened.verified)
    if not policy.satisfied(set(cosigned)):
        problems.append(
            f"the witness quorum {policy.quorum} is not met (cosigned by {sorted(cosigned) or 'none'})"
        )
    return CheckpointVerification(checkpoint, note, cosigned, tuple(problems))


def verify_checkpoint(
    data: str | bytes | Note, policy: Policy, *, origin: str | None = None
) -> CheckpointVerification:
    """``check_checkpoint`` that raises ``PolicyError`` naming every problem."""
    result = check_checkpoint(data, policy, origin=origin)
    if not result.ok:
        raise PolicyError("; ".join(result.problems))
    return result
