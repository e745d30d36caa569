"""Threshold signatures, as TUF does them: a role names key ids and a threshold (k of n).

:func:`check_role` never raises on a bad signature: it returns a :class:`VerificationResult` saying
which of the role's keys signed, which did not, and which signatures were unknown or invalid.
:func:`verify_role` raises :class:`ThresholdError` (1021) carrying that result when the threshold
is not met. A key counts once however many signatures it made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.jwk import Ed25519Key
from schemas.jws import JWSError, verify_detached
from standards.envelope import Signature
from standards.errors import StandardsError


@dataclass(frozen=True, slots=True)
class Role:
    """The keys trusted for one role and how many of them must sign."""

    keyids: tuple[str, ...]
    threshold: int

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Role:
        """From the committee root's ``{"keyids": [...], "threshold": k}``."""
        return cls(tuple(value["keyids"]), int(value["threshold"]))

    def as_dict(self) -> dict[str, Any]:
        """The committee root's form."""
        return {"keyids": list(self.keyids), "threshold": self.threshold}


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of checking signatures against one role (kids are sorted for stable output)."""

    role: str
    threshold: int
    signed: tuple[str, ...]
    unsigned: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """Whether at least ``threshold`` distinct keys of the role signed validly."""
        return len(self.signed) >= self.threshold

    @property
    def missing(self) -> int:
        """How many more valid signatures of the role's keys are needed."""
        return max(0, self.threshold - len(self.signed))

    def summary(self) -> str:
        """One line for people: who signed, against which threshold, how many are missing."""
        text = (
            f"role {self.role}: {len(self.signed)} of {len(self.signed) + len(self.unsigned)}"
            f" keys signed (threshold {self.threshold})"
        )
        if self.missing:
            text += f", {self.missing} missing"
        if self.signed:
            text += f"; signed by {', '.join(self.signed)}"
        if self.unknown:
            text += f"; unknown keys {', '.join(self.unknown)}"
        if self.invalid:
            text += f"; invalid signatures by {', '.join(self.invalid)}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """A JSON form for problem details and logs."""
        return {
            "role": self.role,
            "threshold": self.threshold,
            "signed": list(self.signed),
            "unsigned": list(self.unsigned),
            "unknown": list(self.unknown),
            "invalid": list(self.invalid),
            "missing": self.missing,
            "verified": self.verified,
        }


class ThresholdError(StandardsError):
    """Too few of a role's keys signed (1021); ``results`` say which signed and what is missing."""

    def __init__(self, results: Iterable[VerificationResult]) -> None:
        self.results = tuple(results)
        failed = [result for result in self.results if not result.verified]
        super().__init__("1021", "; ".join(result.summary() for result in failed or self.results))

    @property
    def missing(self) -> int:
        """Total valid signatures still needed across the roles checked."""
        return sum(result.missing for result in self.results)


def check_role(
    payload: bytes,
    signatures: Iterable[Signature],
    keys: Mapping[str, Ed25519Key],
    role: Role,
    role_name: str,
) -> VerificationResult:
    """Check ``signatures`` over ``payload`` (canonical bytes) against ``role``; never raises.

    A signature counts when its kid is one of the role's key ids, the key is in ``keys``, and the
    detached JWS (whose header must name the same kid) verifies over ``payload``.
    """
    members = set(role.keyids)
    signed: set[str] = set()
    unknown: set[str] = set()
    invalid: set[str] = set()
    for signature in signatures:
        key = keys.get(signature.kid)
        if signature.kid not in members or key is None:
            unknown.add(signature.kid)
            continue
        if signature.kid in signed:
            continue
        try:
            verify_detached(signature.jws, payload, key)
        except JWSError:
            invalid.add(signature.kid)
            continue
        signed.add(signature.kid)
    return VerificationResult(
        role=role_name,
        threshold=role.threshold,
        signed=tuple(sorted(signed)),
        unsigned=tuple(sorted(members - signed)),
        unknown=tuple(sorted(unknown)),
        invalid=tuple(sorted(invalid - signed)),
    )


def verify_role(
    payload: bytes,
    signatures: Iterable[Signature],
    keys: Mapping[str, Ed25519Key],
    role: Role,
    role_name: str,
) -> VerificationResult:
    """Like :func:`check_role`, but raise :class:`ThresholdError` unless the threshold is met."""
    result = check_role(payload, signatures, keys, role, role_name)
    if not result.verified:
        raise ThresholdError([result])
    return result
