"""The committee root of trust (TUF-style root metadata) and its rotation.

A root names the committee members' Ed25519 keys (by kid = RFC 7638 thumbprint) and two roles:
``root`` (who may sign the next root) and ``rulesets`` (who may sign rulesets), each k of n. Root
N+1 is trusted only when it is version N+1 of the same committee, signed by the root-role
thresholds of both N and N+1, and not expired. Time is always a parameter; only the default of
``at`` reads the clock.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.jwk import Ed25519Key, JWKError, thumbprint
from schemas.validation import Issue, pointer, validate
from standards.envelope import canonical_payload, parse_envelope
from standards.errors import RootError
from standards.trust import Role, ThresholdError, VerificationResult, check_role

ROLES = ("root", "rulesets")


def _instant(at: datetime | None) -> datetime:
    """``at`` as an aware datetime (naive means UTC); now when not given."""
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def root_issues(payload: Any) -> list[Issue]:
    """Schema issues (1002), then consistency issues (1022) of a committee root payload."""
    issues = validate("committee-root", payload)
    if issues:
        return issues
    keys: Mapping[str, Any] = payload["keys"]
    for kid, jwk in keys.items():
        try:
            actual = thumbprint(jwk)
            Ed25519Key.from_jwk(jwk)
        except JWKError as exc:
            issues.append(Issue(pointer(["keys", kid]), "1022", f"not a usable key: {exc}"))
            continue
        if actual != kid:
            issues.append(
                Issue(pointer(["keys", kid]), "1022", f"the key's thumbprint is {actual}, not {kid}")
            )
    for name in ROLES:
        role = payload["roles"][name]
        for index, kid in enumerate(role["keyids"]):
            if kid not in keys:
                issues.append(
                    Issue(pointer(["roles", name, "keyids", index]), "1022", f"{kid} is not in keys")
                )
        if role["threshold"] > len(role["keyids"]):
            issues.append(
                Issue(
                    pointer(["roles", name, "threshold"]),
                    "1022",
                    f"threshold {role['threshold']} is above the {len(role['keyids'])} key ids",
                )
            )
    return issues


@dataclass(frozen=True, slots=True)
class CommitteeRoot:
    """A parsed, consistent committee root. ``payload`` is a copy of the document as given."""

    committee_id: str
    version: int
    expires: datetime
    keys: Mapping[str, Ed25519Key]
    roles: Mapping[str, Role]
    payload: Mapping[str, Any]

    @classmethod
    def from_payload(cls, payload: Any) -> CommitteeRoot:
        """Parse a root payload; :class:`RootError` (1002 schema, 1022 consistency) otherwise."""
        issues = root_issues(payload)
        if issues:
            code = "1002" if any(issue.code == "1002" for issue in issues) else "1022"
            raise RootError(code, "the committee root is not valid", issues)
        expires = datetime.fromisoformat(payload["expires"].replace("z", "Z").replace("t", "T"))
        return cls(
            committee_id=payload["committee_id"],
            version=payload["version"],
            expires=expires,
            keys={kid: Ed25519Key.from_jwk(jwk) for kid, jwk in payload["keys"].items()},
            roles={name: Role.from_dict(payload["roles"][name]) for name in ROLES},
            payload=copy.deepcopy(payload),
        )

    def role(self, name: str) -> Role:
        """The role ``root`` or ``rulesets``."""
        return self.roles[name]

    def is_expired(self, at: datetime | None = None) -> bool:
        """Whether the root is expired at ``at`` (an expiry instant itself is already expired)."""
        return _instant(at) >= self.expires

    def require_unexpired(self, at: datetime | None = None) -> None:
        """Raise :class:`RootError` (1024) when the root is expired at ``at``."""
        if self.is_expired(at):
            raise RootError(
                "1024",
                f"committee root {self.committee_id} v{self.version} expired at {self.expires.isoformat()}",
            )

    def check(
        self, payload: bytes, envelope: Mapping[str, Any], role: str, *, label: str | None = None
    ) -> VerificationResult:
        """Check an envelope's signatures over ``payload`` bytes against one role; never raises
        on signatures (a malformed envelope raises 1020). ``label`` names the role in results."""
        _, signatures = parse_envelope(envelope)
        return check_role(payload, signatures, self.keys, self.role(role), label or role)


@dataclass(frozen=True, slots=True)
class RotationResult:
    """Signature outcome of a root update: the trusted root's role and the new root's role."""

    previous: VerificationResult
    current: VerificationResult

    @property
    def verified(self) -> bool:
        """Both thresholds met."""
        return self.previous.verified and self.current.verified

    @property
    def missing(self) -> int:
        """Signatures still needed, summed over both roles."""
        return self.previous.missing + self.current.missing


def _parse_signed_root(envelope: Mapping[str, Any]) -> tuple[bytes, CommitteeRoot]:
    payload, _ = parse_envelope(envelope)
    return canonical_payload(payload), CommitteeRoot.from_payload(payload)


def verify_initial_root(envelope: Mapping[str, Any], *, at: datetime | None = None) -> CommitteeRoot:
    """Trust a first root installed by an operator: valid, self-signed by its own root-role
    threshold (1021), and not expired at ``at`` (1024)."""
    payload, root = _parse_signed_root(envelope)
    result = root.check(payload, envelope, "root")
    if not result.verified:
        raise ThresholdError([result])
    root.require_unexpired(at)
    return root


def _rotation(
    trusted: CommitteeRoot, new: CommitteeRoot, payload: bytes, envelope: Mapping[str, Any]
) -> RotationResult:
    return RotationResult(
        previous=trusted.check(payload, envelope, "root", label=f"root v{trusted.version}"),
        current=new.check(payload, envelope, "root", label=f"root v{new.version}"),
    )


def check_root_update(trusted: CommitteeRoot, envelope: Mapping[str, Any]) -> RotationResult:
    """The signatures of a proposed next root against both root roles; never raises on
    signatures (a malformed envelope or root raises)."""
    payload, new = _parse_signed_root(envelope)
    return _rotation(trusted, new, payload, envelope)


def verify_root_update(
    trusted: CommitteeRoot, envelope: Mapping[str, Any], *, at: datetime | None = None
) -> CommitteeRoot:
    """Trust root N+1 after root N: same committee (1025), version N+1 (1023), signed by the
    root-role thresholds of N and of N+1 (1021), not expired at ``at`` (1024)."""
    payload, new = _parse_signed_root(envelope)
    if new.committee_id != trusted.committee_id:
        raise RootError("1025", f"root of committee {new.committee_id}, trusted is {trusted.committee_id}")
    if new.version != trusted.version + 1:
        raise RootError(
            "1023", f"root version {new.version} does not follow trusted version {trusted.version}"
        )
    rotation = _rotation(trusted, new, payload, envelope)
    if not rotation.verified:
        raise ThresholdError([rotation.previous, rotation.current])
    new.require_unexpired(at)
    return new
