"""What the five reference adapters share: media-type and encoding checks, the all-or-nothing
parse, batch checks (duplicates, overlapping serials), a last validation against the exchange
schemas, rendering by record kind, fixtures and the httpx client.

A region module subclasses :class:`BaseAdapter` and supplies ``read`` (local text → labelled
exchange records) and ``write`` (exchange records → local bytes).
"""

from __future__ import annotations

import inspect
import json
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any, ClassVar

import httpx

from adapters.client import ClientSpec, HttpPlatformAPI
from adapters.contract import (
    CREDIT_BLOCK,
    PERSONAL_BATCH,
    PROJECT,
    Fixture,
    ParseResult,
    RegionAdapter,
    RenderError,
    Units,
)
from adapters.fields import Collector
from adapters.privacy import Pseudonymizer
from adapters.records import check_duplicates, check_serial_overlaps, local_methodologies
from schemas import strict_json
from schemas.validation import validate

Labelled = tuple[str, dict[str, Any]]


@dataclass
class Draft:
    """Records read from a payload, each with the label that names it in errors; ``certified``
    holds the ``id()`` of records whose reader guarantees them valid against their exchange
    schema (``adapters.templates``): the last validation skips them."""

    projects: list[Labelled] = field(default_factory=list)
    blocks: list[Labelled] = field(default_factory=list)
    batches: list[Labelled] = field(default_factory=list)
    certified: set[int] = field(default_factory=set)

    def labelled(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            *((PROJECT, label, record) for label, record in self.projects),
            *((CREDIT_BLOCK, label, record) for label, record in self.blocks),
            *((PERSONAL_BATCH, label, record) for label, record in self.batches),
        ]


def record_kind(record: Mapping[str, Any]) -> str:
    """The exchange schema of a record, by its id member."""
    if "batch_id" in record:
        return PERSONAL_BATCH
    if "block_id" in record:
        return CREDIT_BLOCK
    if "project_id" in record and "owner_uscc_hash" in record:
        return PROJECT
    raise RenderError("1045", "not a project, credit block or personal reduction batch")


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """``("text/csv", {"charset": "gbk"})`` from a Content-Type value."""
    message = Message()
    message["content-type"] = content_type
    params = {key.lower(): value.lower() for key, value in (message.get_params() or [])[1:]}
    return message.get_content_type(), params


class BaseAdapter(ABC):
    """Shared behaviour of the reference adapters (see the module docstring)."""

    code: ClassVar[str]
    name: ClassVar[str]
    name_zh: ClassVar[str]
    format: ClassVar[str]
    media_types: ClassVar[tuple[str, ...]]
    record_kinds: ClassVar[tuple[str, ...]]
    units: ClassVar[Units]
    spec: ClassVar[ClientSpec]
    encoding: ClassVar[str] = "utf-8"
    charsets: ClassVar[tuple[str, ...]] = ("utf-8",)
    # what an error names a line of the decoded text by ("row" in a CSV format: its rows are lines)
    line_label: ClassVar[str] = "line"
    # local field names used by the shared batch checks and by the last validation
    block_id_field: ClassVar[str] = ""
    serial_field: ClassVar[str] = ""
    project_id_field: ClassVar[str] = ""
    field_map: ClassVar[Mapping[str, str]] = {}
    # False: every row through the exact reader and every record through the schema (the
    # reference the fast readers are tested against, adapters/templates.py)
    fast_reader: bool = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"

    @property
    def local_methodologies(self) -> dict[str, str]:
        return local_methodologies(self.code)

    def describe(self) -> dict[str, Any]:
        """What ``puhui adapters list`` shows."""
        return {
            "code": self.code,
            "name": self.name,
            "name_zh": self.name_zh,
            "format": self.format,
            "media_types": list(self.media_types),
            "record_kinds": list(self.record_kinds),
            "units": self.units.as_dict(),
            "local_methodologies": self.local_methodologies,
        }

    # -- parse -------------------------------------------------------------------------------

    def parse(
        self, payload: bytes, *, content_type: str | None = None, pseudonymizer: Pseudonymizer
    ) -> ParseResult:
        return ParseStream(self, payload, content_type, pseudonymizer).result()

    def parse_steps(
        self,
        payload: bytes,
        content_type: str | None,
        pseudonymizer: Pseudonymizer,
        errors: Collector,
        draft: Draft,
    ) -> Generator[dict[str, Any], None, ParseResult]:
        """The parse, yielding each credit block as :meth:`read_stream` reads it (kept in
        ``draft``) and returning the :class:`ParseResult`."""
        if content_type is not None:
            self._check_media_type(content_type, errors)
        text = None if errors else self.decode(payload, errors)
        if text is None:
            return ParseResult.refused(errors.errors)
        yield from self.read_stream(text, pseudonymizer, errors, draft)
        if not errors:
            self._batch_checks(draft, errors)
        if not errors:
            self._validate(draft, errors)
        if errors:
            return ParseResult.refused(errors.errors)
        record, label = operator.itemgetter(1), operator.itemgetter(0)
        return ParseResult(
            projects=tuple(map(record, draft.projects)),
            blocks=tuple(map(record, draft.blocks)),
            batches=tuple(map(record, draft.batches)),
            labels={
                "projects": tuple(map(label, draft.projects)),
                "blocks": tuple(map(label, draft.blocks)),
                "batches": tuple(map(label, draft.batches)),
            },
        )

    def _check_media_type(self, content_type: str, errors: Collector) -> None:
        kind, params = media_type(content_type)
        accepted = {media_type(item)[0] for item in self.media_types}
        if kind not in accepted:
            errors.add("payload", "Content-Type", f"{kind} is not one of {', '.join(accepted)}", "1044")
        elif "charset" in params and params["charset"] not in self.charsets:
            errors.add(
                "payload",
                "Content-Type",
                f"charset {params['charset']} is not {' or '.join(self.charsets)}",
                "1040",
            )

    def decode(self, payload: bytes, errors: Collector) -> str | None:
        """The payload as text in the format's encoding; 1040 when it is not in that encoding,
        1049 when the text holds a NUL character (no text the hub stores may: PostgreSQL's
        ``text`` and ``jsonb`` cannot hold one), naming the line of the first."""
        codec = "utf-8-sig" if self.encoding == "utf-8" else self.encoding
        try:
            text = payload.decode(codec)
        except UnicodeDecodeError as exc:
            errors.add(
                f"byte {exc.start}", "(encoding)", f"the payload is not valid {self.encoding.upper()}", "1040"
            )
            return None
        nul = text.find("\x00")
        if nul >= 0:
            line = text.count("\n", 0, nul) + 1
            errors.add(f"{self.line_label} {line}", "(text)", "the text holds a NUL character", "1049")
            return None
        return text

    @abstractmethod
    def read(self, text: str, pseudonymizer: Pseudonymizer, errors: Collector) -> Draft:
        """Labelled exchange records of the decoded payload; errors go to ``errors``."""

    def read_stream(
        self, text: str, pseudonymizer: Pseudonymizer, errors: Collector, draft: Draft
    ) -> Iterator[dict[str, Any]]:
        """What :meth:`read` reads, kept in ``draft``, each credit block yielded as it is appended
        to ``draft.blocks``. This one reads the whole text first and yields nothing; a layout
        that reads block by block yields as it goes (the Jiangsu CSV)."""
        found = self.read(text, pseudonymizer, errors)
        draft.projects, draft.blocks, draft.batches = found.projects, found.blocks, found.batches
        draft.certified = found.certified
        return iter(())

    def load_json(self, text: str, errors: Collector, label: str = "payload") -> Any:
        """JSON read by the hub's strict reader (schemas.strict_json) with decimals kept exact
        (``Decimal``): 1043 when not well-formed; 1047 nested too deep, 1048 a member named twice,
        1049 a NUL or lone surrogate in a text. None after an error."""
        try:
            return strict_json.loads(text, fractions=Decimal)
        except strict_json.StrictJSONError as exc:
            issue = exc.issue
            where = f"(JSON {issue.pointer})" if issue.pointer else "(JSON)"
            errors.add(label, where, issue.detail, "1043" if issue.code == "1001" else issue.code)
            return None

    def _batch_checks(self, draft: Draft, errors: Collector) -> None:
        if self.project_id_field:
            keys = [(label, record["project_id"]) for label, record in draft.projects]
            check_duplicates(keys, self.project_id_field, errors, "project id")
        if self.block_id_field:
            keys = [(label, record["block_id"]) for label, record in draft.blocks]
            check_duplicates(keys, self.block_id_field, errors, "block id")
            check_serial_overlaps(draft.blocks, self.serial_field, errors)

    def _validate(self, draft: Draft, errors: Collector) -> None:
        """The exchange schema as a last line: any issue is named by the local field it came from.
        Records the reader certified valid by construction are not validated a second time."""
        certified = draft.certified
        for kind, items in (
            (PROJECT, draft.projects),
            (CREDIT_BLOCK, draft.blocks),
            (PERSONAL_BATCH, draft.batches),
        ):
            for label, record in items:
                if id(record) not in certified:
                    self._validate_one(kind, label, record, errors)

    def _validate_one(self, kind: str, label: str, record: dict[str, Any], errors: Collector) -> None:
        for issue in validate(kind, record):
            errors.add(label, self.local_field(kind, issue.pointer), issue.detail, issue.code)

    def local_field(self, kind: str, pointer: str) -> str:
        """The local field an exchange member (a JSON pointer into a record of ``kind``) comes
        from, as the platform's format names it; ``(exchange …)`` when the format has no one field."""
        generic = re.sub(r"/\d+(?=/|$)", "/*", pointer)
        named = self.field_map.get(f"{kind}:{generic}")
        if named:
            return named
        member = pointer.split("/")[1] if pointer.count("/") >= 1 else ""
        own = {"block_id": self.block_id_field, "serial_start": self.serial_field}
        if kind == PROJECT or member == "project":
            own["project_id"] = own["project"] = self.project_id_field
        spec = getattr(self, "spec", None)
        fields = dict(spec.fields) if spec is not None and kind == CREDIT_BLOCK else {}
        return own.get(member) or fields.get(member) or f"(exchange {pointer})"

    def local_names(self, result: ParseResult, pointer: str) -> tuple[str, str] | None:
        """``(record, field)`` of a pointer into the exchange form of ``result``
        (``/blocks/3/serial_start``): how the platform's own file names them; None elsewhere."""
        found = re.fullmatch(r"/(projects|blocks|batches)/(\d+)(/.*)?", pointer)
        if found is None:
            return None
        labels = result.labels.get(found.group(1), ())
        position = int(found.group(2))
        if position >= len(labels):
            return None
        kind = {"projects": PROJECT, "blocks": CREDIT_BLOCK, "batches": PERSONAL_BATCH}[found.group(1)]
        return labels[position], self.local_field(kind, found.group(3) or "")

    # -- render ------------------------------------------------------------------------------

    def render(self, record: Mapping[str, Any]) -> bytes:
        return self.render_many([record])

    def render_many(self, records: Sequence[Mapping[str, Any]]) -> bytes:
        kinds = []
        for record in records:
            kind = record_kind(record)
            if kind not in self.record_kinds:
                raise RenderError("1045", f"the {self.code} format carries no {kind} records")
            kinds.append((kind, record))
        return self.write(kinds)

    @abstractmethod
    def write(self, records: Sequence[tuple[str, Mapping[str, Any]]]) -> bytes:
        """The local payload carrying ``(kind, record)`` pairs."""

    # -- client and fixtures -----------------------------------------------------------------

    def client(
        self,
        base_url: str,
        transport: httpx.BaseTransport | None = None,
        *,
        pseudonymizer: Pseudonymizer | None = None,
        timeout: float = 10.0,
    ) -> HttpPlatformAPI:
        return HttpPlatformAPI(self, base_url, transport, pseudonymizer=pseudonymizer, timeout=timeout)

    def fixture_dir(self) -> Path:
        return Path(inspect.getfile(type(self))).parent / "fixtures"

    def fixtures(self) -> list[Fixture]:
        """``fixtures/good/*`` and ``fixtures/broken/*``, described by ``fixtures/expected.json``."""
        root = self.fixture_dir()
        meta = json.loads((root / "expected.json").read_text("utf-8"))
        found = []
        for group in ("good", "broken"):
            for path in sorted((root / group).iterdir()):
                if not path.is_file():
                    continue
                about = meta.get(group, {}).get(path.name, {})
                found.append(
                    Fixture(
                        name=f"{group}/{path.name}",
                        path=path,
                        content_type=about.get("content_type", self.media_types[0]),
                        good=group == "good",
                        expected_codes=tuple(about.get("codes", ())),
                        expected_fields=tuple(about.get("fields", ())),
                        identifiers=tuple(meta.get("identifiers", ())),
                    )
                )
        return found


class ParseStream:
    """One payload's parse (``parse``) whose credit blocks are handed out while the rest is read.

    :meth:`blocks` yields, in order, the blocks read so far as long as each is certified valid
    by its reader (``Draft.certified``) and no error has been recorded before it; it stops at
    the first that is not (that block and every later one come only in :meth:`result`).
    :meth:`result` reads whatever is left and gives exactly what ``parse`` gives: the blocks
    handed out are the first ``result().blocks`` (the same objects), unless the payload is
    refused — then a caller that stored them must undo that. An adapter that is not a
    :class:`BaseAdapter` (any ``RegionAdapter``) is parsed whole and hands out nothing."""

    def __init__(
        self,
        adapter: BaseAdapter | RegionAdapter,
        payload: bytes,
        content_type: str | None,
        pseudonymizer: Pseudonymizer,
    ) -> None:
        self.adapter = adapter
        self.errors = Collector()
        self.draft = Draft()
        self._steps = (
            adapter.parse_steps(payload, content_type, pseudonymizer, self.errors, self.draft)
            if isinstance(adapter, BaseAdapter)
            else _whole(adapter, payload, content_type, pseudonymizer)
        )
        self._result: ParseResult | None = None

    def blocks(self) -> Iterator[dict[str, Any]]:
        errors, draft = self.errors, self.draft
        while self._result is None:
            try:
                block = next(self._steps)
            except StopIteration as done:
                self._result = done.value
                return
            if errors or id(block) not in draft.certified:
                return
            yield block

    def result(self) -> ParseResult:
        while self._result is None:
            try:
                next(self._steps)
            except StopIteration as done:
                self._result = done.value
        return self._result


def _whole(
    adapter: RegionAdapter, payload: bytes, content_type: str | None, pseudonymizer: Pseudonymizer
) -> Generator[dict[str, Any], None, ParseResult]:
    """The parse of an adapter that reads a payload only whole: nothing handed out early."""
    yield from ()
    return adapter.parse(payload, content_type=content_type, pseudonymizer=pseudonymizer)


def parse_stream(
    adapter: BaseAdapter | RegionAdapter,
    payload: bytes,
    *,
    content_type: str | None = None,
    pseudonymizer: Pseudonymizer,
) -> ParseStream:
    """The parse of ``payload`` by any registered adapter (``parse``), its credit blocks handed
    out as they are read (:class:`ParseStream`), so a caller can store them while the rest is read."""
    return ParseStream(adapter, payload, content_type, pseudonymizer)
