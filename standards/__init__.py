"""Methodology catalogue, committee roots of trust and threshold-signed mapping rulesets.

Pure domain code: no web, no database, no clock reads except as the default of an ``at``
parameter. The exchange documents it works on (``methodology``, ``ruleset``, ``committee-root``)
are defined in ``schemas``. See ``docs/standards.md``.

- ``catalogue``: methodology catalogue, lookups both ways (package data).
- ``envelope``: ``{"signed", "signatures"}`` envelopes, ``make_envelope``, ``sign_envelope``.
- ``trust``: roles, k-of-n :class:`VerificationResult`, :class:`ThresholdError`.
- ``root``: committee roots, first installation and TUF-style rotation.
- ``rulesets``, ``publishing``: parsed rulesets, digest, in force, current selection, signed
  publication and version succession.
- ``evaluation``: block + destination + purpose + date → :class:`Decision`.
- ``diff``: readable changes between two ruleset versions.
- ``defaults``: the default YRD ruleset (demonstration values, not policy).
"""

from standards.catalogue import Catalogue, LocalCode, Methodology, MethodologyRef, load_catalogue
from standards.defaults import default_ruleset, default_ruleset_payload
from standards.diff import Change, diff_record, diff_rulesets, render_diff
from standards.envelope import Digest, make_envelope, parse_envelope, payload_digest, sign_envelope
from standards.errors import (
    CatalogueError,
    EnvelopeError,
    EvaluationInputError,
    RootError,
    RulesetError,
    StandardsError,
)
from standards.evaluation import Decision, evaluate
from standards.facts import BlockFacts, Capacity, DateRange, ProjectFacts, PurposeUsage
from standards.publishing import (
    VerifiedRuleset,
    check_ruleset_signatures,
    check_succession,
    succession_issues,
    verify_ruleset,
)
from standards.rational import Rational, floor_convert
from standards.root import (
    CommitteeRoot,
    RotationResult,
    check_root_update,
    root_issues,
    verify_initial_root,
    verify_root_update,
)
from standards.rulesets import Ruleset, RulesetRef, require_current, ruleset_issues, select_current
from standards.trust import Role, ThresholdError, VerificationResult, check_role, verify_role

__all__ = [
    "BlockFacts",
    "Capacity",
    "Catalogue",
    "CatalogueError",
    "Change",
    "CommitteeRoot",
    "DateRange",
    "Decision",
    "Digest",
    "EnvelopeError",
    "EvaluationInputError",
    "LocalCode",
    "Methodology",
    "MethodologyRef",
    "ProjectFacts",
    "PurposeUsage",
    "Rational",
    "Role",
    "RootError",
    "RotationResult",
    "Ruleset",
    "RulesetError",
    "RulesetRef",
    "StandardsError",
    "ThresholdError",
    "VerificationResult",
    "VerifiedRuleset",
    "check_role",
    "check_root_update",
    "check_ruleset_signatures",
    "check_succession",
    "default_ruleset",
    "default_ruleset_payload",
    "diff_record",
    "diff_rulesets",
    "evaluate",
    "floor_convert",
    "load_catalogue",
    "make_envelope",
    "parse_envelope",
    "payload_digest",
    "render_diff",
    "require_current",
    "root_issues",
    "ruleset_issues",
    "select_current",
    "sign_envelope",
    "succession_issues",
    "verify_initial_root",
    "verify_role",
    "verify_root_update",
    "verify_ruleset",
]
