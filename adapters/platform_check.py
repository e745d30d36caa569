"""The conformance kit: named requirements of the platform API (:mod:`adapters.platform_api`),
run against a platform's server as the hub would call it (``puhui platform-check``).

A run needs the region (its adapter's spec says where each operation lives and how its fields are
spelled), the server's address, and a small JSON file, the *credentials*::

    {
      "region": "JS",                                       # or --region
      "headers": {"Authorization": "Bearer <test token>"},  # sent with every call (optional)
      "block": {"block_id": "JS-B-2025-000001",             # a held block of a test account,
                "serial_start": 100001, "serial_end": 100350, "quantity": 350},
      "import_block": {<an exchange credit-block record>}   # optional: what the credit checks import
    }

What a run leaves behind on the server: the test ``block`` locked and unlocked again (held, as
before, also when a requirement fails); one block credited under a fresh id (``<import block
id>-CHK<run>``) then locked and finalized (exported) by a transfer-completed notice, and one more
(``-CHKB<run>``) through the credit batch route if there is one; one retirement notice
(``PUHUI-CHECK-<run>``).
A region whose format carries no credit blocks (Zhejiang's personal points) has the block
requirements marked not applicable.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.base import BaseAdapter
from adapters.client import RETRYABLE_STATUSES, idempotency_key_for
from adapters.contract import CREDIT_BLOCK, AdapterError
from adapters.privacy import Pseudonymizer
from adapters.registry import UnknownAdapter, available, get

PASS, FAIL, NOT_APPLICABLE = "PASS", "FAIL", "N/A"

REQUIREMENTS = {
    "R1": "a lock of held serials answers 2xx with a JSON object",
    "R2": "the same Idempotency-Key repeated gets the same answer, and the lock happens once",
    "R3": "a lock of a block the platform does not hold is refused (4xx, not a retryable status)",
    "R4": "an unlock frees the serials (they can be locked again), idempotently",
    "R5": "a credit of an import answers 2xx, and its key repeated gets the same answer",
    "R6": "batch routes answer one result per item, each as its single call (or 404: fallback)",
    "R7": "a retirement notice is acknowledged (2xx), and its key repeated gets the same answer",
    "R8": "a transfer-completed notice is acknowledged idempotently and finalizes the export",
    "R9": "every refusal is a JSON object saying why (error or errors)",
}


class CheckSetupError(ValueError):
    """The run cannot start: the credentials or the region are wrong (a usage error)."""


@dataclass(frozen=True)
class Seen:
    status: int | None
    body: Any

    def __str__(self) -> str:
        if self.status is None:
            return f"no answer ({self.body})"
        text = (
            json.dumps(self.body, ensure_ascii=False) if not isinstance(self.body, str) else repr(self.body)
        )
        return f"{self.status} {text[:160]}"

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and isinstance(self.body, dict)

    @property
    def refused(self) -> bool:
        return self.status is not None and 400 <= self.status < 500 and self.status not in RETRYABLE_STATUSES


@dataclass(frozen=True)
class Result:
    requirement: str
    outcome: str
    seen: str

    @property
    def title(self) -> str:
        return REQUIREMENTS[self.requirement]


@dataclass
class Credentials:
    region: str | None
    headers: dict[str, str] = field(default_factory=dict)
    block: dict[str, Any] | None = None
    import_block: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: Any) -> Credentials:
        if not isinstance(data, dict):
            raise CheckSetupError("the credentials file must hold a JSON object")
        unknown = sorted(set(data) - {"region", "headers", "block", "import_block"})
        if unknown:
            raise CheckSetupError(f"unknown member(s) of the credentials: {', '.join(unknown)}")
        headers = data.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise CheckSetupError("headers must be an object of strings")
        block = data.get("block")
        if block is not None:
            wanted = {"block_id": str, "serial_start": int, "serial_end": int, "quantity": int}
            if not isinstance(block, dict) or any(not isinstance(block.get(k), t) for k, t in wanted.items()):
                raise CheckSetupError(
                    "block needs block_id (string), serial_start, serial_end, quantity (integers)"
                )
        import_block = data.get("import_block")
        if import_block is not None and not isinstance(import_block, dict):
            raise CheckSetupError("import_block must be an exchange credit-block record")
        return cls(data.get("region"), dict(headers), block, import_block)


def _answer(response: httpx.Response) -> Seen:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:300]
    return Seen(response.status_code, body)


def _says_why(seen: Seen) -> bool:
    body = seen.body
    return isinstance(body, dict) and bool(body.get("error") or body.get("errors"))


class PlatformCheck:
    """One run of the requirements against one platform server."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        region: str | None = None,
        transport: httpx.BaseTransport | None = None,
        run_id: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        code = region or credentials.region
        if not code:
            raise CheckSetupError("which region's layout? --region CODE, or region in the credentials")
        try:
            adapter = get(code)
        except UnknownAdapter as exc:
            raise CheckSetupError(f"no adapter for region {code}: {', '.join(sorted(available()))}") from exc
        if not isinstance(adapter, BaseAdapter):
            raise CheckSetupError(f"the {code} adapter has no ClientSpec")
        self.adapter = adapter
        self.spec = adapter.spec
        self.carries_blocks = CREDIT_BLOCK in adapter.record_kinds
        if self.carries_blocks and credentials.block is None:
            raise CheckSetupError(
                f"the {code} format carries credit blocks: the credentials need a test block"
            )
        self.credentials = credentials
        self.run = run_id or secrets.token_hex(4)
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout, headers=credentials.headers
        )
        self.refusals: list[tuple[str, Seen]] = []  # every 4xx seen, for R9
        self.imported: dict[str, Any] | None = None
        self.fell_back = False  # the last batch call found no batch route

    def close(self) -> None:
        self.http.close()

    # -- calls -------------------------------------------------------------------------------

    def _post(self, path: str, key: str | None, what: str, **kwargs: Any) -> Seen:
        headers = {"Idempotency-Key": key} if key else {}
        try:
            seen = _answer(self.http.post(path, headers=headers, **kwargs))
        except httpx.HTTPError as exc:
            return Seen(None, f"{type(exc).__name__}: {exc}")
        if seen.status is not None and 400 <= seen.status < 500:
            self.refusals.append((what, seen))
        return seen

    def _key(self, *parts: object) -> str:
        return idempotency_key_for("platform-check", self.run, *parts)

    def _block_path(self, template: str, block: Mapping[str, Any]) -> str:
        from urllib.parse import quote

        return template.format(block_id=quote(str(block["block_id"]), safe=""))

    def lock(self, block: Mapping[str, Any], key: str, what: str = "lock") -> Seen:
        return self._post(
            self._block_path(self.spec.lock_path, block), key, what, json=self.spec.block_body(block)
        )

    def unlock(self, block: Mapping[str, Any], key: str, what: str = "unlock") -> Seen:
        path = self._block_path(self.spec.unlock_path, block)
        return self._post(path, key, what, json=self.spec.block_body(block))

    def _import_record(self, tag: str = "") -> dict[str, Any]:
        record = self.credentials.import_block
        if record is None:
            pseudonymizer = Pseudonymizer(b"puhui platform-check " + self.run.encode(), key_id="check")
            for fixture in self.adapter.fixtures():
                if fixture.good:
                    parsed = self.adapter.parse(
                        fixture.read(), content_type=fixture.content_type, pseudonymizer=pseudonymizer
                    )
                    if parsed.ok and parsed.blocks:
                        record = dict(parsed.blocks[0])
                        break
        if record is None:
            raise CheckSetupError("no import_block given and no shipped fixture of the region holds a block")
        return {**record, "block_id": f"{record['block_id']}-CHK{tag}{self.run}", "status": "imported"}

    def credit(self, record: Mapping[str, Any], key: str) -> Seen:
        headers = {"Content-Type": self.adapter.media_types[0]}
        try:
            payload = self.adapter.render(record)
        except AdapterError as exc:
            return Seen(None, f"the {self.adapter.code} adapter cannot render the import block: {exc}")
        if key:
            headers["Idempotency-Key"] = key
        try:
            seen = _answer(self.http.post(self.spec.import_path, content=payload, headers=headers))
        except httpx.HTTPError as exc:
            return Seen(None, f"{type(exc).__name__}: {exc}")
        if seen.status is not None and 400 <= seen.status < 500:
            self.refusals.append(("credit", seen))
        return seen

    # -- the requirements --------------------------------------------------------------------

    def r1_r2(self) -> list[Result]:
        block = self.credentials.block
        assert block is not None
        key = self._key("lock", block["block_id"])
        first = self.lock(block, key)
        r1 = Result("R1", PASS if first.ok else FAIL, f"lock: {first}")
        again = self.lock(block, key)
        other = self.lock(
            block, self._key("lock-again", block["block_id"]), "a second lock under another key"
        )
        same = first.ok and again.status == first.status and again.body == first.body
        once = other.refused
        seen = f"first {first}; same key again {again}; another key {other}"
        if not same:
            seen = f"the repeat answered otherwise: {seen}"
        elif not once:
            seen = f"a lock under another key was not refused (not locked once?): {seen}"
        return [r1, Result("R2", PASS if same and once else FAIL, seen)]

    def r3(self) -> Result:
        unknown = {
            "block_id": f"PUHUI-CHECK-UNKNOWN-{self.run}",
            "serial_start": 1,
            "serial_end": 1,
            "quantity": 1,
        }
        seen = self.lock(unknown, self._key("unknown"), "a lock of an unknown block")
        return Result("R3", PASS if seen.refused else FAIL, f"lock of {unknown['block_id']}: {seen}")

    def r4(self) -> Result:
        block = self.credentials.block
        assert block is not None
        key = self._key("unlock", block["block_id"])
        first = self.unlock(block, key)
        again = self.unlock(block, key)
        relock = self.lock(block, self._key("relock", block["block_id"]), "a lock after the unlock")
        tidy = self.unlock(block, self._key("tidy", block["block_id"]), "the last unlock")
        seen = f"unlock {first}; same key again {again}; lock again {relock}; unlock {tidy}"
        passed = (
            first.ok and again.status == first.status and again.body == first.body and relock.ok and tidy.ok
        )
        return Result("R4", PASS if passed else FAIL, seen)

    def r5(self) -> Result:
        record = self._import_record()
        key = self._key("credit", record["block_id"])
        first = self.credit(record, key)
        again = self.credit(record, key)
        passed = first.ok and again.status == first.status and again.body == first.body
        if first.ok:
            self.imported = record
        return Result(
            "R5", PASS if passed else FAIL, f"credit of {record['block_id']}: {first}; again {again}"
        )

    def _batch(self, path: str | None, items: list[dict[str, Any]], expect: list[bool]) -> tuple[bool, str]:
        """Whether the batch route answered per item as expected (2xx where True, a refusal
        where False), or has no such route; what was seen."""
        self.fell_back = path is None
        if path is None:
            return True, "no batch route in the region's spec (single calls)"
        seen = self._post(path, None, "a batch", json={"items": items})
        self.fell_back = seen.status in (404, 405, 501)
        if self.fell_back:
            self.refusals = [r for r in self.refusals if r[1] is not seen]
            return True, f"{path}: {seen.status}, the hub falls back to single calls"
        results = seen.body.get("results") if isinstance(seen.body, dict) else None
        if seen.status != 200 or not isinstance(results, list) or len(results) != len(items):
            return False, f"{path}: {len(items)} items answered {seen}"
        for position, (result, wanted) in enumerate(zip(results, expect, strict=True)):
            status = result.get("status") if isinstance(result, dict) else None
            body = result.get("body") if isinstance(result, dict) else None
            item = Seen(status if isinstance(status, int) else None, body)
            if (wanted and not item.ok) or (not wanted and not item.refused):
                return False, f"{path}: item {position} answered {item}"
            if not wanted:
                self.refusals.append((f"batch item {position}", item))
        return True, f"{path}: {seen}"

    def r6(self) -> Result:
        notes: list[str] = []
        passed = True
        unknown = {
            "block_id": f"PUHUI-CHECK-UNKNOWN-{self.run}",
            "serial_start": 1,
            "serial_end": 1,
            "quantity": 1,
        }
        items = [{"idempotency_key": self._key("batch-unknown"), **self.spec.block_body(unknown)}]
        expect = [False]
        block = self.credentials.block
        if block is not None:
            body = self.spec.block_body(block)
            items.insert(0, {"idempotency_key": self._key("batch-lock", block["block_id"]), **body})
            expect.insert(0, True)
        ok, note = self._batch(self.spec.lock_batch_path, items, expect)
        passed, notes = passed and ok, [*notes, f"lock: {note}"]
        if block is not None and not ok:  # whatever the batch did, leave the block as found
            self.unlock(
                block, self._key("batch-tidy", block["block_id"]), "an unlock after a failed lock batch"
            )
        elif block is not None and not self.fell_back:  # the batch locked it: a batch unlocks it
            key = self._key("batch-unlock", block["block_id"])
            ok, note = self._batch(self.spec.unlock_batch_path, [{"idempotency_key": key, **body}], [True])
            if self.fell_back:  # leave the block as found
                self.unlock(block, self._key("batch-tidy", block["block_id"]), "an unlock after a lock batch")
            passed, notes = passed and ok, [*notes, f"unlock: {note}"]
        if self.carries_blocks:
            record = self._import_record("B")
            try:
                payload = base64.b64encode(self.adapter.render(record)).decode("ascii")
            except AdapterError as exc:
                return Result(
                    "R6", FAIL, f"the {self.adapter.code} adapter cannot render the import block: {exc}"
                )
            item = {
                "idempotency_key": self._key("batch-credit", record["block_id"]),
                "content_type": self.adapter.media_types[0],
                "payload_base64": payload,
            }
            ok, note = self._batch(self.spec.import_batch_path, [item], [True])
            passed, notes = passed and ok, [*notes, f"credit: {note}"]
        return Result("R6", PASS if passed else FAIL, "; ".join(notes))

    def _notice(self, path: str, body: dict[str, Any], key: str, what: str) -> tuple[Seen, Seen]:
        return self._post(path, key, what, json=body), self._post(path, key, what, json=body)

    def r7(self) -> Result:
        block = self.credentials.block or {"block_id": None, "serial_start": 1, "serial_end": 1}
        retirement = {
            "retirement_id": f"PUHUI-CHECK-{self.run}",
            "purpose": {"kind": "voluntary-neutralization"},
            "quantity": 1,
            "retired_at": "2026-01-01T00:00:00+00:00",
            "blocks": [
                {
                    "block_id": block["block_id"],
                    "start": block["serial_start"],
                    "end": block["serial_start"],
                    "quantity": 1,
                }
            ],
        }
        first, again = self._notice(
            self.spec.retirement_path,
            self.spec.retirement_body(retirement),
            idempotency_key_for("retirement", retirement["retirement_id"]),
            "a retirement notice",
        )
        passed = first.ok and again.status == first.status and again.body == first.body
        return Result("R7", PASS if passed else FAIL, f"notice: {first}; same key again {again}")

    def r8(self) -> Result:
        record = self.imported
        if record is None:
            return Result("R8", FAIL, "no block was credited (R5), so none could be locked and finalized")
        lock = self.lock(record, self._key("finalize-lock", record["block_id"]))
        notice = {
            "transfer_id": f"PUHUI-CHECK-{self.run}",
            "destination": "HUB-CHECK",
            "completed_at": "2026-01-01T00:00:00+00:00",
            "blocks": [record],
        }
        first, again = self._notice(
            self.spec.transfer_notice_path,
            self.spec.transfer_notice_body(notice),
            idempotency_key_for("transfer-completed", notice["transfer_id"]),
            "a transfer-completed notice",
        )
        after = self.unlock(
            record, self._key("finalized-unlock", record["block_id"]), "an unlock of exported serials"
        )
        seen = f"lock {lock}; notice {first}; same key again {again}; an unlock after it {after}"
        passed = (
            lock.ok
            and first.ok
            and again.status == first.status
            and again.body == first.body
            and after.refused
        )
        return Result("R8", PASS if passed else FAIL, seen)

    def r9(self) -> Result:
        if not self.refusals:
            return Result("R9", FAIL, "no refusal was seen to check (R3 should have been one)")
        bad = [f"{what}: {seen}" for what, seen in self.refusals if not _says_why(seen)]
        if bad:
            return Result("R9", FAIL, "; ".join(bad))
        return Result("R9", PASS, f"{len(self.refusals)} refusal(s), each a JSON object with a reason")

    def run_all(self) -> list[Result]:
        steps: list[tuple[tuple[str, ...], Callable[[], Result | list[Result]], bool]] = [
            (("R1", "R2"), self.r1_r2, True),
            (("R3",), self.r3, False),
            (("R4",), self.r4, True),
            (("R5",), self.r5, True),
            (("R6",), self.r6, False),
            (("R7",), self.r7, False),
            (("R8",), self.r8, True),
            (("R9",), self.r9, False),
        ]
        results: list[Result] = []
        for names, step, needs_blocks in steps:
            if needs_blocks and not self.carries_blocks:
                why = f"the {self.adapter.code} format carries no credit blocks"
                results += [Result(name, NOT_APPLICABLE, why) for name in names]
                continue
            done = step()
            results += done if isinstance(done, list) else [done]
        return results


def run_checks(
    base_url: str,
    credentials: Credentials,
    *,
    region: str | None = None,
    transport: httpx.BaseTransport | None = None,
    run_id: str | None = None,
) -> list[Result]:
    """Every requirement against the platform at ``base_url``: one result each, in order."""
    check = PlatformCheck(base_url, credentials, region=region, transport=transport, run_id=run_id)
    try:
        return check.run_all()
    finally:
        check.close()
