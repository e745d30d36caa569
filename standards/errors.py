"""The typed error base of the standards package: every error carries a stable check code.

The hub renders these as problem details: ``code`` is the check code (``schemas.codes``), ``issues``
the per-member failures with JSON pointers. ``ThresholdError`` (in ``standards.trust``) also
carries the signature verification results, so that an answer can say which keys signed.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.codes import check_code
from schemas.validation import Issue


class StandardsError(ValueError):
    """A standards document or request that cannot be accepted; ``code`` is its check code."""

    def __init__(self, code: str, message: str, issues: Iterable[Issue] = ()) -> None:
        check_code(code)  # a KeyError here is a programming error: unregistered code
        super().__init__(message)
        self.code = code
        self.message = message
        self.issues: tuple[Issue, ...] = tuple(issues)

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class EnvelopeError(StandardsError):
    """A signed envelope that is malformed (1020) or whose payload has no canonical form (1014)."""


class CatalogueError(StandardsError):
    """A catalogue document that is invalid (1002) or a lookup that finds nothing (5010)."""


class RootError(StandardsError):
    """A committee root that is invalid (1002, 1022), not the next version (1023), expired (1024)
    or of another committee (1025)."""


class RulesetError(StandardsError):
    """A ruleset that is invalid (1002, 3004, 5007), out of sequence (5006) or not found (5008)."""


class EvaluationInputError(StandardsError):
    """Inputs to an evaluation that are missing or malformed (1002, 1004)."""
