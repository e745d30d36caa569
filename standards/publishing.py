"""Publishing a ruleset: its envelope must carry the threshold of the committee root's
``rulesets`` role, the root must be unexpired, and versions must follow one another.

``check_ruleset_signatures`` never raises on signatures (it answers who signed and how many are
missing); ``verify_ruleset`` raises a :class:`StandardsError` with the check code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.validation import Issue
from standards.catalogue import Catalogue
from standards.envelope import canonical_payload, parse_envelope
from standards.errors import RootError, RulesetError
from standards.root import CommitteeRoot
from standards.rulesets import Ruleset
from standards.trust import ThresholdError, VerificationResult


@dataclass(frozen=True, slots=True)
class VerifiedRuleset:
    """A ruleset whose envelope met the ``rulesets`` threshold of a trusted, unexpired root."""

    ruleset: Ruleset
    result: VerificationResult
    envelope: Mapping[str, Any]


def check_ruleset_signatures(envelope: Mapping[str, Any], root: CommitteeRoot) -> VerificationResult:
    """Who of the root's ``rulesets`` role signed the envelope's canonical payload; never raises
    on signatures (a malformed envelope raises 1020)."""
    payload, _ = parse_envelope(envelope)
    return root.check(canonical_payload(payload), envelope, "rulesets")


def verify_ruleset(
    envelope: Mapping[str, Any],
    root: CommitteeRoot,
    *,
    at: datetime | None = None,
    catalogue: Catalogue | None = None,
) -> VerifiedRuleset:
    """Accept a signed ruleset: the root is not expired at ``at`` (1024), the ``rulesets``
    threshold is met (1021, the error carries the result), the payload is a valid ruleset (1002,
    3004, 5007; checked against ``catalogue`` when given) of the root's committee (1025)."""
    root.require_unexpired(at)
    payload, _ = parse_envelope(envelope)
    result = root.check(canonical_payload(payload), envelope, "rulesets")
    if not result.verified:
        raise ThresholdError([result])
    ruleset = Ruleset.from_payload(payload, catalogue)
    if ruleset.committee != root.committee_id:
        raise RootError("1025", f"ruleset of committee {ruleset.committee}, trusted is {root.committee_id}")
    return VerifiedRuleset(ruleset=ruleset, result=result, envelope=envelope)


def succession_issues(new: Ruleset, published: Iterable[Ruleset]) -> list[Issue]:
    """Why ``new`` cannot follow the ``published`` versions of its ruleset id (5006), if it can't.

    The first version is 1 and supersedes nothing; each later one is the latest version + 1,
    supersedes the latest version, and keeps the committee.
    """
    earlier = [item for item in published if item.ruleset_id == new.ruleset_id]
    issues: list[Issue] = []
    if any(item.version == new.version for item in earlier):
        issues.append(Issue("/version", "5006", f"version {new.version} is already published"))
        return issues
    if not earlier:
        if new.version != 1:
            issues.append(Issue("/version", "5006", "the first version of a ruleset is 1"))
        if new.supersedes is not None:
            issues.append(Issue("/supersedes", "5006", "the first version supersedes nothing"))
        return issues
    latest = max(earlier, key=lambda item: item.version)
    if new.version != latest.version + 1:
        issues.append(
            Issue("/version", "5006", f"version must be {latest.version + 1} after {latest.version}")
        )
    if new.supersedes != latest.version:
        issues.append(Issue("/supersedes", "5006", f"must supersede the latest version {latest.version}"))
    if new.committee != latest.committee:
        issues.append(Issue("/committee", "5006", f"committee changed from {latest.committee}"))
    return issues


def check_succession(new: Ruleset, published: Iterable[Ruleset]) -> None:
    """Raise :class:`RulesetError` (5006) with the issues when ``new`` does not follow on."""
    issues = succession_issues(new, published)
    if issues:
        raise RulesetError(
            "5006",
            f"{new.ruleset_id} v{new.version} does not follow the published versions",
            issues,
        )
