"""``puhui demo traffic``: the demo platforms at work, at a bounded rate for a bounded time.

Each demo platform acts through the hub's public API with its own credentials, and its operator
decides: a platform issues new credits in its own system (its sandbox, in its own format) and
pushes them to the hub, so the traffic never runs out of credits; proposes transfers to other
regions; retires credits it holds; asks for recognition elsewhere (the hub selects the serials) and,
once its region's operator approved, moves them under the certificate; pledges a block and
releases it; Shanghai and Zhejiang report their riders' trips — now and then one already counted
by the other, which the hub refuses (4002). The hub's worker drives the transfers.

Every request (tokens, the hub, the sandboxes) goes through one :class:`PacedTransport`: never more
than ``rate`` per second. Choices come from ``random.Random(seed)``. A 4xx is a refusal, counted by
its check code; a 5xx or an unreachable hub is a failure. The README tour's recognitions
(``RR-2026-*``) are left for the reader to decide.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters.contract import PERSONAL_BATCH
from adapters.privacy import Pseudonymizer
from adapters.registry import get
from hub.client import HubProblem, HubUnreachable, PlatformClient, RateLimited
from hub.demo.actors import OPERATORS, Actors, send_records
from hub.demo.pacing import PacedTransport, busiest_second
from hub.demo.trips import Trip, shanghai_day, zhejiang_lines
from hub.registry.federation_key import pseudonymizer

ISSUERS = ("JS", "AH", "CCER", "SH")  # platforms whose sandboxes hold serialized credits
TAKERS = ("SH", "JS", "AH")  # destinations whose formats take other regions' credits
TOUR = "RR-2026-"  # the README tour's recognitions: never decided by the traffic
ACTIONS = {
    "issue": 3,
    "transfer": 5,
    "retire": 3,
    "recognize": 3,
    "move-recognized": 3,
    "pledge": 1,
    "release": 1,
    "trips": 2,
    "stray-transfer": 1,
}
PURPOSES = ("voluntary-neutralization", "charitable-retirement")


@dataclass
class TrafficSummary:
    seconds: float = 0.0
    requests: int = 0
    busiest_second: int = 0
    done: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)  # "status code" -> count
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        done = ", ".join(f"{kind} {count}" for kind, count in sorted(self.done.items())) or "nothing"
        refused = ", ".join(f"{code} ×{count}" for code, count in sorted(self.refusals.items())) or "none"
        return [
            f"{self.requests} requests in {self.seconds:.1f} s (at most {self.busiest_second} in any second)",
            f"done: {done}",
            f"refused (status check-code): {refused}",
            f"failures (5xx, unreachable): {len(self.failures)}",
            *[f"  {failure}" for failure in self.failures[:10]],
        ]


class NothingToDo(Exception):
    """An action that cannot be taken now (no block to use, nothing pledged…): nothing changed."""


@dataclass
class Held:
    block_id: str
    namespace: str
    start: int
    end: int
    origin: str


class Traffic:
    def __init__(
        self,
        actors: Actors,
        transport: PacedTransport,
        *,
        seed: int,
        federation_key: Path | None,
        advance: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.actors = actors
        self.transport = transport
        self.random = random.Random(seed)  # noqa: S311 -- demo choices, not secrets
        self.keys = pseudonymizer(federation_key) if federation_key and federation_key.exists() else None
        self.advance = advance
        self.clock = clock
        self.summary = TrafficSummary()
        self.verbose = False
        self.run_id = f"{seed:x}{int(time.time()) % 100000:05d}"
        self.counter = 0
        self.next_serial: dict[str, int] = {}
        self.busy: list[tuple[str, int, int]] = []  # serials this run's transfers and pledges hold
        self.known: dict[str, set[str]] = {}  # the blocks each sandbox holds (its own books)
        self.certificates: list[dict[str, Any]] = []  # approved, not moved yet
        self.pledged: list[tuple[str, str]] = []
        self.reported: list[dict[str, Any]] = []  # trips reported (for a duplicate now and then)
        self.templates: dict[str, dict[str, Any]] = {}
        self.looked_up: set[str] = set()

    # helpers
    def _id(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}-TRAFFIC-{self.run_id}-{self.counter:05d}"

    def _holdings(self, code: str) -> list[Held]:
        rows = self.actors.platform(code).get("/v1/blocks", limit=1000)
        return [
            Held(
                r["block_id"], r["serial_namespace"], r["serial_start"], r["serial_end"], r["origin_registry"]
            )
            for r in rows
            if r["status"] in ("held", "imported")
        ]

    @staticmethod
    def _all_blocks(client: PlatformClient) -> list[dict[str, Any]]:
        """Every block the platform holds, page by page (once per run: to number new serials)."""
        rows: list[dict[str, Any]] = []
        while True:
            page = client.get("/v1/blocks", limit=1000, **({"after": rows[-1]["block_id"]} if rows else {}))
            rows += page
            if len(page) < 1000:
                return rows

    def _sandbox_blocks(self, code: str) -> set[str]:
        if code not in self.known:
            state = self.actors.sandbox(code).get("/_sandbox/state")
            if state.status_code != 200:
                raise HubProblem(state.status_code, {"detail": f"{code} sandbox: {state.text[:200]}"})
            self.known[code] = set(state.json()["blocks"])
        return self.known[code]

    def _in_sandbox(self, code: str, block_id: str) -> bool:
        root = block_id.split(":")[0]
        return any(known.split(":")[0] == root for known in self._sandbox_blocks(code))

    def _overlaps_busy(self, held: Held) -> bool:
        return any(n == held.namespace and s <= held.end and held.start <= e for n, s, e in self.busy)

    def _free_part(self, held: Held, most: int) -> tuple[int, int] | None:
        """The last serials of a block (up to ``most``) that no operation of this run holds."""
        end = held.end
        for namespace, start, stop in sorted(self.busy, key=lambda b: -b[2]):
            if namespace == held.namespace and start <= end and held.start <= stop:
                end = min(end, start - 1)
        if end < held.start:
            return None
        size = self.random.randint(1, most)
        return max(held.start, end - size + 1), end

    def _claimed(self, code: str) -> None:
        """Once per platform: the serials its own recognitions (pending or approved, the README
        tour's among them) hold, so this run does not trip over them."""
        if code in self.looked_up:
            return
        self.looked_up.add(code)
        for item in self.actors.platform(code).get("/v1/recognitions"):
            if item["status"] in ("pending_review", "approved"):
                self.busy += [(b["namespace"], b["start"], b["end"]) for b in item["request"]["blocks"]]

    def _pick(self, code: str, *, own: bool, most: int) -> tuple[Held, int, int]:
        self._claimed(code)
        candidates = [
            h
            for h in self._holdings(code)
            if not own or (h.origin == code and self._in_sandbox(code, h.block_id))
        ]
        self.random.shuffle(candidates)
        for held in candidates:
            part = self._free_part(held, most)
            if part is not None:
                return held, *part
        raise NothingToDo(f"{code} holds nothing free to use")

    # actions
    def issue(self) -> None:
        code = self.random.choice(ISSUERS)
        client = self.actors.platform(code)
        adapter = get(code)
        if code not in self.next_serial:
            own = [r for r in self._all_blocks(client) if r["serial_namespace"] == code]
            if not own:
                raise NothingToDo(f"{code} has no block to model a new one on")
            self.templates[code] = own[0]
            self.next_serial[code] = max(r["serial_end"] for r in own) + 1
        template = self.templates[code]
        quantity = self.random.randint(20, 200)
        start = self.next_serial[code]
        self.next_serial[code] = start + quantity
        record = {key: value for key, value in template.items() if key != "status"}
        record.update(
            block_id=self._id(f"{code}-B"),
            serial_start=start,
            serial_end=start + quantity - 1,
            quantity=quantity,
            status="held",
            current_registry=code,
        )
        payload = adapter.render_many([record])
        media = adapter.media_types[0]
        sandbox = self.actors.sandbox(code)  # issued in the platform's own system first
        added = sandbox.post("/_sandbox/issuances", content=payload, headers={"content-type": media})
        if added.status_code >= 500:
            raise HubProblem(added.status_code, {"detail": f"{code} sandbox: {added.text[:200]}"})
        if added.status_code >= 400:
            raise NothingToDo(f"{code} sandbox refused its own issuance: {added.text[:200]}")
        self._sandbox_blocks(code).add(str(record["block_id"]))
        if PERSONAL_BATCH in adapter.record_kinds:  # parsed on the platform's side, sent as records
            parsed = adapter.parse(payload, content_type=media, pseudonymizer=self._pseudonyms())
            send_records(self.actors, code, {"projects": [], "blocks": parsed.blocks, "batches": []})
        else:
            client.request("POST", f"/v1/platforms/{code}/batches", content=payload, content_type=media)

    def _pseudonyms(self) -> Pseudonymizer:
        if self.keys is None:
            raise NothingToDo("no federation key on this machine: personal records cannot be pseudonymized")
        return self.keys

    def _propose(
        self, code: str, destination: str, parts: list[dict[str, Any]], certificate: str | None
    ) -> None:
        transfer_id = self._id("TR")
        body: dict[str, Any] = {
            "transfer_id": transfer_id,
            "destination": destination,
            "to_account": {"registry": destination, "account_id": f"{destination}-A-TRAFFIC-01"},
            "blocks": parts,
        }
        if certificate:
            body["certificate_id"] = certificate
        self.actors.platform(code).request(
            "POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": transfer_id}
        )
        self.busy += [(p["namespace"], p["start"], p["end"]) for p in parts]

    def transfer(self, destinations: tuple[str, ...] = TAKERS) -> None:
        code = self.random.choice(ISSUERS)
        held, start, end = self._pick(code, own=True, most=30)
        destination = self.random.choice([d for d in destinations if d != code])
        part = {"block_id": held.block_id, "namespace": held.namespace, "start": start, "end": end}
        self._propose(code, destination, [part], None)

    def stray_transfer(self) -> None:
        """A transfer the destination's format cannot take (to the CCER registry, or to Zhejiang,
        whose platform holds no serialized credits): accepted, then terminated and compensated."""
        self.transfer(destinations=("CCER", "ZJ"))

    def retire(self) -> None:
        code = self.random.choice(ISSUERS)
        held, start, end = self._pick(code, own=False, most=15)
        purpose: dict[str, Any] = {"kind": self.random.choice(PURPOSES)}
        if purpose["kind"] == "voluntary-neutralization":
            purpose["event"] = f"demonstration: traffic event {self.counter}"
        body = {
            "retirement_id": self._id("RT"),
            "registry": code,
            "blocks": [{"block_id": held.block_id, "namespace": held.namespace, "start": start, "end": end,
                        "quantity": end - start + 1, "unit": "tCO2e"}],
            "quantity": end - start + 1,
            "unit": "tCO2e",
            "purpose": purpose,
            "beneficiary": {"registry": code, "account_id": f"{code}-A-TRAFFIC-RT"},
        }  # fmt: skip
        self.actors.platform(code).post("/v1/retirements", body)

    def recognize(self) -> None:
        code = self.random.choice(("JS", "AH", "CCER"))  # the platforms whose credits carry project facts
        destination = self.random.choice([d for d in OPERATORS if d != code])
        request = {
            "request_id": self._id("RR"),
            "origin_registry": code,
            "destination_registry": destination,
            "purpose": self.random.choice(PURPOSES),
            "beneficiary": {"registry": destination, "account_id": f"{destination}-A-TRAFFIC-01"},
            "requested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "note": "demonstration: traffic simulator",
        }
        asked = self.actors.platform(code).post(
            "/v1/recognitions", {"request": request, "select": {"quantity": self.random.randint(5, 40)}}
        )
        approve = self.random.random() < 0.8
        decided = self.actors.operator(destination).post(
            f"/v1/recognitions/{asked['id']}/decision",
            {
                "decision": "approve" if approve else "reject",
                "reason": "demonstration: meets the YRD rules"
                if approve
                else "demonstration: the beneficiary account is not open yet",
            },
        )
        if decided.get("certificate_id"):
            self.certificates.append({**decided, "origin": code})
            self.busy += [(b["namespace"], b["start"], b["end"]) for b in decided["request"]["blocks"]]

    def move_recognized(self) -> None:
        if not self.certificates:
            raise NothingToDo("no approved certificate to move under")
        certificate = self.certificates.pop(0)
        origin = self.actors.platform(certificate["origin"])
        parts = []
        for b in certificate["request"]["blocks"]:  # the block holding them now (splits rename pieces)
            holding = origin.get("/v1/blocks", namespace=b["namespace"], serial=b["start"])
            block_id = holding[0]["block_id"] if holding else b["block_id"]
            parts.append(
                {"block_id": block_id, "namespace": b["namespace"], "start": b["start"], "end": b["end"]}
            )
        if not all(self._in_sandbox(certificate["origin"], p["block_id"]) for p in parts):
            raise NothingToDo("the certificate names serials the origin's sandbox does not hold")
        self._propose(certificate["origin"], certificate["destination"], parts, certificate["certificate_id"])

    def pledge(self) -> None:
        code = self.random.choice(ISSUERS)
        candidates = [h for h in self._holdings(code) if h.origin == code and self._free_part(h, 1)]
        untouched = [h for h in candidates if not self._overlaps_busy(h)]
        if not untouched:
            raise NothingToDo(f"{code} holds no block free to pledge")
        held = self.random.choice(untouched)
        self.actors.platform(code).post(
            f"/v1/blocks/{held.block_id}/pledge", {"reason": f"demonstration: loan {self._id('LOAN')}"}
        )
        self.pledged.append((code, held.block_id))
        self.busy.append((held.namespace, held.start, held.end))

    def release(self) -> None:
        if not self.pledged:
            raise NothingToDo("nothing pledged by this run")
        code, block_id = self.pledged.pop(0)
        self.actors.platform(code).post(
            f"/v1/blocks/{block_id}/release", {"reason": "demonstration: loan repaid"}
        )

    def trips(self) -> None:
        """A day of metro trips from Shanghai or Zhejiang; now and then one the other platform
        reported already (the hub refuses the batch: 4002)."""
        keys = self._pseudonyms()
        code = self.random.choice(("SH", "ZJ"))
        again = [t for t in self.reported if t["platform"] != code]
        if again and self.random.random() < 0.3:
            trip = self.random.choice(again)
        else:
            trip = {
                "phone": f"+86 199 {self.random.randint(0, 9999):04d} {self.random.randint(0, 9999):04d}",
                "day": f"2025-{self.random.randint(1, 12):02d}-{self.random.randint(1, 28):02d}",
                "minute": self.random.randint(6 * 60, 22 * 60),
            }
        hour, minute = divmod(int(trip["minute"]), 60)
        ride = Trip(
            self._id(f"{code}-R"), str(trip["phone"]), str(trip["day"]),
            f"{hour:02d}:{minute:02d}:00", f"{hour:02d}:{minute + 17 if minute < 42 else 59:02d}:00",
            f"L11-{str(trip['day']).replace('-', '')}-{hour:02d}{minute:02d}",
        )  # fmt: skip
        payload, media = shanghai_day(self._id("SH-PB"), [ride]) if code == "SH" else zhejiang_lines([ride])
        parsed = get(code).parse(payload, content_type=media, pseudonymizer=keys)
        # each report is its own batch (Zhejiang's format would name one per scene and day)
        batches = [{**batch, "batch_id": self._id(f"{code}-PB")} for batch in parsed.batches]
        send_records(self.actors, code, {"projects": [], "blocks": [], "batches": batches})
        self.reported.append({**trip, "platform": code})

    # the run
    def step(self) -> None:
        possible = {
            kind: weight
            for kind, weight in ACTIONS.items()
            if (kind != "move-recognized" or self.certificates) and (kind != "release" or self.pledged)
        }
        kind = self.random.choices(list(possible), weights=list(possible.values()))[0]
        action = getattr(self, kind.replace("-", "_"))
        try:
            action()
        except NothingToDo:
            self.summary.done["skipped"] += 1
            return
        except HubUnreachable as exc:
            self.summary.failures.append(f"{kind}: {exc}")
            return
        except HubProblem as problem:
            self._count(kind, problem)
            return
        self.summary.done[kind] += 1

    def _count(self, kind: str, problem: HubProblem) -> None:
        if problem.status >= 500:
            self.summary.failures.append(f"{kind}: {problem}")
            return
        codes = [e.get("code") for e in problem.errors] or [problem.code]
        self.summary.refusals[f"{problem.status} {codes[0] or problem.problem.get('error', '?')}"] += 1
        if self.verbose:
            print(f"refused {kind}: {problem} {problem.errors[:2]}")
        if isinstance(problem, RateLimited):  # the hub's per-client limit: wait as it asks
            time.sleep(problem.retry_after)

    def run(self, seconds: float) -> TrafficSummary:
        begin = self.clock()
        end = begin + seconds
        steps = 0
        while self.clock() < end:
            self.step()
            steps += 1
            if self.advance is not None and steps % 3 == 0:
                self.advance()
        self.summary.seconds = self.clock() - begin
        self.summary.requests = len(self.transport.started)
        self.summary.busiest_second = busiest_second(self.transport.started)
        return self.summary


def run_traffic(
    credentials_dir: Path,
    *,
    rate: float,
    seconds: float,
    seed: int,
    base_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
    federation_key: Path | None = None,
    advance: Callable[[], int] | None = None,
    verbose: bool = False,
) -> TrafficSummary:
    """Run the demo's traffic against a hub (over HTTP at ``base_url``, or through ``transport``)."""
    paced = PacedTransport(transport or httpx.HTTPTransport(), rate)
    with Actors(credentials_dir, base_url=base_url, transport=paced) as actors:
        traffic = Traffic(actors, paced, seed=seed, federation_key=federation_key, advance=advance)
        traffic.verbose = verbose
        return traffic.run(seconds)
