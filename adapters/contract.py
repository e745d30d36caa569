"""The adapter contract: what every region adapter offers the hub.

An adapter turns one platform's local payloads into exchange records (``parse``) and back
(``render``), knows the platform's methodology codes and units, and makes an httpx client for the
platform's API (``client``). ``parse`` is all-or-nothing: a :class:`ParseResult` holds either
records or every error, each named in the platform's own terms (row or local id, local field).
Client failures are one family, :class:`PlatformAPIError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx

from adapters.privacy import Pseudonymizer

PROJECT = "project"
CREDIT_BLOCK = "credit-block"
PERSONAL_BATCH = "personal-reduction-batch"
RECORD_KINDS = (PROJECT, CREDIT_BLOCK, PERSONAL_BATCH)


@dataclass(frozen=True, slots=True)
class LocalError:
    """One reason a local payload is refused, in the platform's terms.

    ``record`` is the row (``"row 3"``, ``"line 2"``) or the local id; ``field`` the platform's own
    field name (``减排量（吨）``, ``Block/Tonnes``); ``code`` a registered check code.
    """

    record: str
    field: str
    reason: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"record": self.record, "field": self.field, "reason": self.reason, "code": self.code}


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Exchange records of one payload, or every error; never both (all-or-nothing)."""

    projects: tuple[dict[str, Any], ...] = ()
    blocks: tuple[dict[str, Any], ...] = ()
    batches: tuple[dict[str, Any], ...] = ()
    errors: tuple[LocalError, ...] = ()
    # the local label of each record ("row 5", "<credit id=…>"), by list: "projects", "blocks",
    # "batches" — so a refusal after parsing can name the record as the platform knows it
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.errors and (self.projects or self.blocks or self.batches):
            raise ValueError("a refused payload carries no records")

    @classmethod
    def refused(cls, errors: Sequence[LocalError]) -> ParseResult:
        return cls(errors=tuple(errors))

    @property
    def ok(self) -> bool:
        return not self.errors

    def records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(schema name, record)`` pairs: projects first, then blocks, then personal batches."""
        yield from ((PROJECT, record) for record in self.projects)
        yield from ((CREDIT_BLOCK, record) for record in self.blocks)
        yield from ((PERSONAL_BATCH, record) for record in self.batches)

    def __len__(self) -> int:
        return len(self.projects) + len(self.blocks) + len(self.batches)


@dataclass(frozen=True, slots=True)
class Units:
    """A platform's units, as data.

    ``credit_unit`` is what its local amounts of project credits are written in (e.g. "吨, decimal
    string with 3 places"); ``grams_per_point`` the gram value of one personal point, or None when
    its points are not convertible (then :attr:`points_convertible` is False).
    """

    credit_unit: str | None
    personal_unit: str | None
    grams_per_point: int | None

    @property
    def points_convertible(self) -> bool:
        return self.grams_per_point is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "credit_unit": self.credit_unit,
            "personal_unit": self.personal_unit,
            "grams_per_point": self.grams_per_point,
            "points_convertible": self.points_convertible,
        }


@dataclass(frozen=True, slots=True)
class Fixture:
    """A shipped sample payload; ``expected`` (broken ones) lists the codes and local fields."""

    name: str
    path: Path
    content_type: str
    good: bool
    expected_codes: tuple[str, ...] = ()
    expected_fields: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = field(default=())

    def read(self) -> bytes:
        return self.path.read_bytes()


class AdapterError(ValueError):
    """An adapter-side refusal that is not a parse of a payload (e.g. render); carries a check code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"[{code}] {reason}")
        self.code = code
        self.reason = reason


class RenderError(AdapterError):
    """An exchange record the platform's format cannot carry (1045) or convert (3005, 3010)."""


class PlatformAPIError(Exception):
    """Base of every failure of a platform client; ``retryable`` says whether to try again."""

    retryable = False

    def __init__(self, platform: str, message: str) -> None:
        super().__init__(f"{platform}: {message}")
        self.platform = platform
        self.message = message


class PlatformUnreachable(PlatformAPIError):
    """The platform could not be reached or failed (network, timeout, 5xx), or asked for time
    (408, 425, 429): the call is tried again, with the same idempotency key."""

    retryable = True

    def __init__(self, platform: str, message: str, status: int | None = None) -> None:
        super().__init__(platform, message)
        self.status = status


class PlatformRefused(PlatformAPIError):
    """The platform answered 4xx (but 408, 425, 429): it refuses the request (unknown block,
    already locked…); final."""

    def __init__(self, platform: str, status: int, body: Any) -> None:
        super().__init__(platform, f"refused with {status}: {body}")
        self.status = status
        self.body = body


class PlatformMalformedAnswer(PlatformAPIError):
    """The platform answered 2xx with something that is not its format (or not parseable)."""

    def __init__(self, platform: str, message: str, errors: Sequence[LocalError] = ()) -> None:
        super().__init__(platform, message)
        self.errors = tuple(errors)


@runtime_checkable
class PlatformAPI(Protocol):
    """A client of one platform's API."""

    def issuances_since(self, cursor: str | None) -> tuple[ParseResult, str]:
        """Exchange records issued after ``cursor`` (None: from the start), and the next cursor.

        State-changing calls below send ``idempotency_key`` as ``Idempotency-Key`` (one per
        transfer step), so that a retried call is answered once."""
        ...

    def lock(self, block: Mapping[str, Any], *, idempotency_key: str | None = None) -> None:
        """Lock a block at the platform for export (transfer saga: origin locked)."""
        ...

    def unlock(self, block: Mapping[str, Any], *, idempotency_key: str | None = None) -> None:
        """Release a lock (compensation of a terminated transfer)."""
        ...

    def credit_import(self, block: Mapping[str, Any], *, idempotency_key: str | None = None) -> None:
        """Credit a block arriving from another registry (transfer saga: destination credited)."""
        ...

    def notify_retirement(self, retirement: Mapping[str, Any], *, idempotency_key: str | None = None) -> None:
        """Tell the origin that its units were retired (for its corresponding adjustment)."""
        ...

    def notify_transfer_completed(
        self, notice: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> None:
        """Tell the origin that the serials it locked are credited at the destination (it
        finalizes their export)."""
        ...

    def close(self) -> None: ...


# The outcome of one call of a batch: None when it succeeded, else why it failed.
CallOutcome = AdapterError | PlatformAPIError | None


@runtime_checkable
class BatchPlatformAPI(PlatformAPI, Protocol):
    """A platform client that also makes many calls in one request (the transfer worker's rounds).

    Each call is ``(block, idempotency_key)``; the answer is one outcome per call, in order, so one
    refused block fails alone. A platform without batch routes is served call by call."""

    def lock_many(self, calls: Sequence[tuple[Mapping[str, Any], str]]) -> list[CallOutcome]: ...

    def unlock_many(self, calls: Sequence[tuple[Mapping[str, Any], str]]) -> list[CallOutcome]: ...

    def credit_import_many(self, calls: Sequence[tuple[Mapping[str, Any], str]]) -> list[CallOutcome]: ...


@runtime_checkable
class BatchNoticeAPI(PlatformAPI, Protocol):
    """A platform client that also sends many transfer-completed notices in one request (the
    notice worker's rounds). Each call is ``(notice, idempotency_key)``, the key its single call
    would carry; the answer is one outcome per notice, in order, so one refused notice fails alone.
    A client without it is called notice by notice; a platform without the batch route (404, 405,
    501) is served notice by notice by its client."""

    def notify_transfer_completed_many(
        self, calls: Sequence[tuple[Mapping[str, Any], str]]
    ) -> list[CallOutcome]: ...


@runtime_checkable
class RegionAdapter(Protocol):
    """One region's adapter, registered in the ``puhui.adapters`` entry-point group."""

    code: str
    name: str
    name_zh: str
    format: str
    media_types: tuple[str, ...]
    record_kinds: tuple[str, ...]
    units: Units

    @property
    def local_methodologies(self) -> Mapping[str, str]:
        """The platform's methodology codes → catalogue ids (from the standards catalogue)."""
        ...

    def parse(
        self, payload: bytes, *, content_type: str | None = None, pseudonymizer: Pseudonymizer
    ) -> ParseResult:
        """Exchange records of a local payload, or every error (never some records)."""
        ...

    def local_names(self, result: ParseResult, pointer: str) -> tuple[str, str] | None:
        """How the platform's own file names the record and field a pointer into ``result``'s
        exchange form reaches (``("row 5", "签发编号")``); None for a pointer into no record."""
        ...

    def render(self, record: Mapping[str, Any]) -> bytes:
        """One exchange record as a local payload (:class:`RenderError` when it cannot be)."""
        ...

    def render_many(self, records: Sequence[Mapping[str, Any]]) -> bytes:
        """Several exchange records as one local payload."""
        ...

    def client(
        self,
        base_url: str,
        transport: httpx.BaseTransport | None = None,
        *,
        pseudonymizer: Pseudonymizer | None = None,
        timeout: float = 10.0,
    ) -> PlatformAPI:
        """An httpx client of the platform's API (``pseudonymizer`` is needed to fetch issuances)."""
        ...

    def fixtures(self) -> list[Fixture]:
        """The shipped good and broken sample payloads."""
        ...
