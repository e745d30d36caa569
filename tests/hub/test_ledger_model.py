"""A model-based test of the ledger: a hypothesis state machine drives the HTTP app as Jiangsu,
Shanghai and Shanghai's operator with valid *and* malformed requests — reversed, empty,
overlapping, out-of-block, repeated and foreign parts; unknown, foreign and used certificates;
operations on serials under every kind of claim — and after every step compares the hub with a
small reference model kept per serial:

- every issued serial is in exactly one live block (not exported), whose registry and status are
  the model's, and quantities are distinct-serial counts;
- the database's active claims are the model's, serial by serial;
- every approved certificate names only serials reserved for it;
- a refused request changed nothing (log size, blocks and claims unchanged), and the hub refused
  exactly what the model says is refused for the serials' sake (3xxx/2xxx codes).

Runs on SQLite and PostgreSQL; each example starts from a copy of one seeded hub.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import text

from hub.client import HubProblem
from hub.transfers.worker import TransferWorker
from tests.hub.conftest import example
from tests.hub.ledger_reference import (
    ELIGIBLE,
    ISSUED,
    MOVABLE_FROM,
    NS,
    PARTS,
    Model,
    PartSpec,
    Serial,
    check_refusal,
)
from tests.hub.seeded_hubs import Hub, seeded_copies


class LedgerMachine(RuleBasedStateMachine):
    make_hub: Callable[[], Any]

    def __init__(self) -> None:
        super().__init__()
        self.model = Model(serials={n: Serial() for n in ISSUED})
        for n in range(90001, 90026):
            self.model.serials[n].status = "encumbered"
            self.model.serials[n].claim = ("pledge", "block:JS-B-2024-000310")
        self.context = self.make_hub()
        self.hub: Hub = self.context.__enter__()
        self.clients = {name: self.hub.platform(name) for name in ("js", "sh", "operator-sh")}
        self.counter = 0

    def teardown(self) -> None:
        for platform in self.clients.values():
            platform.close()
        self.context.__exit__(None, None, None)

    # reading the hub
    def blocks(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for name in ("js", "sh"):
            found += self.clients[name].get("/v1/blocks", limit=1000)
        return sorted(found, key=lambda b: b["block_id"])

    def claims(self) -> dict[int, tuple[str, str]]:
        with self.hub.database.unit_of_work() as session:
            rows = session.execute(
                text("SELECT serial_start, serial_end, kind, owner_id FROM serial_claim WHERE active")
            ).all()
        held: dict[int, tuple[str, str]] = {}
        for start, end, kind, owner in rows:
            for n in range(start, end + 1):
                assert n not in held, f"serial {n} is under two active claims"
                held[n] = (kind, owner)
        return held

    def snapshot(self) -> tuple[int, list[tuple[str, int, int, str]], dict[int, tuple[str, str]]]:
        size = int(self.hub.client.get("/v1/log/tree-head").json()["tree_size"])
        blocks = [(b["block_id"], b["serial_start"], b["serial_end"], b["status"]) for b in self.blocks()]
        return size, blocks, self.claims()

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    # drawing parts from the hub's real blocks (and spoiling them)
    def parts(
        self, specs: list[PartSpec], *, movable: bool = False, root: str | None = None
    ) -> tuple[list[dict[str, Any]], list[int] | None]:
        """The request's parts, and the serials they name when the parts are well formed (None
        when the model expects a refusal of the parts themselves). ``movable``: only Jiangsu's
        blocks its sandbox can lock (the hub may move nothing of Shanghai's imports back)."""
        live = [b for b in self.blocks() if b["status"] != "exported"]
        if movable:
            live = [b for b in live if b["serial_start"] >= MOVABLE_FROM and b["current_registry"] == "JS"]
        if root is not None:  # pieces of one root block (wherever they are)
            live = [b for b in live if root in b["block_id"]]
        if not live:
            return [], None
        parts, serials, well_formed = [], [], True
        for spec in specs:
            block = live[spec.block % len(live)]
            start, end = block["serial_start"], block["serial_end"]
            size = end - start + 1
            if spec.shape == "whole":
                part = {"block_id": block["block_id"], "namespace": NS, "start": start, "end": end}
            elif spec.shape == "inside":
                low, high = sorted((start + spec.a % size, start + spec.b % size))
                part = {"block_id": block["block_id"], "namespace": NS, "start": low, "end": high}
            elif spec.shape == "reversed":
                low, high = sorted((start + spec.a % size, start + spec.b % size))
                part = {"block_id": block["block_id"], "namespace": NS, "start": high + 1, "end": low}
                well_formed = False
            elif spec.shape == "outside":
                part = {
                    "block_id": block["block_id"],
                    "namespace": NS,
                    "start": end - spec.a % size,
                    "end": end + 1 + spec.b % 5,
                }
                well_formed = False
            elif spec.shape == "unknown":
                part = {
                    "block_id": f"{block['block_id']}-nope",
                    "namespace": NS,
                    "start": start,
                    "end": start,
                }
                well_formed = False
            else:
                part = {"block_id": block["block_id"], "namespace": "SH", "start": start, "end": start}
                well_formed = False
            if well_formed:
                named = list(range(part["start"], part["end"] + 1))
                if set(named) & set(serials):
                    well_formed = False  # overlapping or repeated parts
                serials += named
            parts.append(part)
        return parts, (serials if well_formed else None)

    def attempt(
        self, label: str, send: Callable[[], Any], serials: list[int] | None, sender: str
    ) -> Any | None:
        """Send a request the model judges by its serials; the hub's answer must agree; a refusal
        must change nothing."""
        before = self.snapshot()
        expected = serials is not None and self.model.free(serials, sender)
        try:
            answer, refusal = send(), None
        except HubProblem as problem:
            answer, refusal = None, problem
        if refusal is None:
            OUTCOMES[f"{label}: accepted"] += 1
            assert expected, f"accepted although the model refuses it: {answer}"
            return answer
        OUTCOMES[f"{label}: refused {'(valid, by the rules) ' if expected else ''}{refusal.code}"] += 1
        check_refusal(refusal, expected)
        assert self.snapshot() == before, "a refused request changed the ledger"
        return None

    # rules
    @rule(specs=PARTS, sender=st.sampled_from(["js", "js", "js", "sh"]))
    def transfer(self, specs: list[PartSpec], sender: str) -> None:
        parts, serials = self.parts(specs, movable=True)
        if not parts:
            return  # everything Jiangsu's sandbox could lock has moved
        transfer_id = self.next_id("TR")
        body = {
            "transfer_id": transfer_id,
            "destination": "SH" if sender == "js" else "JS",
            "to_account": {"registry": "SH" if sender == "js" else "JS", "account_id": "A-1"},
            "blocks": parts,
        }

        def send() -> Any:
            headers = {"Idempotency-Key": transfer_id}
            return (
                self.clients[sender].request("POST", "/v1/transfers", json_body=body, headers=headers).json()
            )

        if self.attempt("transfer", send, serials, sender.upper()) is not None and serials is not None:
            self.model.claim(serials, "transfer", transfer_id)
            self.model.transfers[transfer_id] = "accepted"

    @rule(specs=PARTS)
    def recognize(self, specs: list[PartSpec]) -> None:
        parts, serials = self.parts(specs, root=ELIGIBLE)
        request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
        request |= {
            "request_id": self.next_id("RR"),
            "blocks": [p | {"quantity": max(1, p["end"] - p["start"] + 1), "unit": "tCO2e"} for p in parts],
        }
        request["quantity"] = sum(p["quantity"] for p in request["blocks"])
        if serials is not None and len(serials) > 1000:
            return  # above the four-eyes threshold: another rule's business
        body = {"request": request, "verified_emissions": 10**9}
        answer = self.attempt(
            "recognize", lambda: self.clients["js"].post("/v1/recognitions", body), serials, "JS"
        )
        if answer is not None and serials is not None:
            self.model.claim(serials, "recognition", answer["id"])
            self.model.recognitions[answer["id"]] = "pending_review"

    @rule(index=st.integers(0, 20), approve=st.booleans())
    def decide(self, index: int, approve: bool) -> None:
        pending = sorted(r for r, status in self.model.recognitions.items() if status == "pending_review")
        if not pending:
            return
        recognition = pending[index % len(pending)]
        body = {"decision": "approve" if approve else "reject", "reason": "model-based test"}
        answer = self.clients["operator-sh"].post(f"/v1/recognitions/{recognition}/decision", body)
        assert answer["status"] == ("approved" if approve else "rejected")
        freed = self.model.release("recognition", recognition)
        self.model.recognitions[recognition] = answer["status"]
        if approve:
            certificate = f"RC-{recognition}"
            self.model.claim(freed, "certificate", certificate)
            self.model.certificates[certificate] = sorted(freed)

    @rule(
        specs=PARTS,
        certificate=st.sampled_from(["none", "approved", "used", "unknown"]),
        sender=st.sampled_from(["js", "sh"]),
    )
    def retire(self, specs: list[PartSpec], certificate: str, sender: str) -> None:
        usable = sorted(
            c for c, s in self.model.certificates.items() if self.model.recognitions[c[3:]] == "approved"
        )
        used = sorted(
            c for c, s in self.model.certificates.items() if self.model.recognitions[c[3:]] != "approved"
        )
        named = {"approved": usable[:1], "used": used[:1], "unknown": ["RC-unknown"], "none": []}[certificate]
        retirement = example("retirement", "event-neutralization")
        serials: list[int] | None
        if named and certificate == "approved" and specs[0].shape == "whole":
            parts = self._certificate_parts(named[0])
            serials = self.model.certificates[named[0]]
        else:
            parts, serials = self.parts(specs)
        blocks = [p | {"quantity": max(1, p["end"] - p["start"] + 1), "unit": "tCO2e"} for p in parts]
        registry = sender.upper()
        retirement |= {
            "retirement_id": self.next_id("RT"),
            "registry": registry,
            "blocks": blocks,
            "quantity": sum(b["quantity"] for b in blocks),
            "beneficiary": {"registry": registry, "account_id": "A-1"},
        }
        if named:
            retirement["certificate_id"] = named[0]
        consumes = False
        if named and certificate == "approved":
            request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
            retirement["purpose"] = {"kind": "ets-compliance"}
            retirement["compliance"] = request["compliance"]
            retirement["beneficiary"] = {"registry": "SH", "account_id": "SH-A-ENT-0042"}
            certified = self.model.certificates[named[0]]
            consumes = serials is not None and sorted(serials) == certified and sender == "js"
        expected_serials = serials if (not named or consumes) else None
        if consumes and expected_serials is not None:  # the certificate's own claim gives way
            owner = named[0]
            held = {n: self.model.serials[n].claim for n in expected_serials}
            self.model.release("certificate", owner)
            answer = self.attempt(
                f"retire ({certificate} certificate)",
                lambda: self.clients[sender].post("/v1/retirements", retirement),
                expected_serials,
                registry,
            )
            if answer is None:
                for n, claim in held.items():
                    self.model.serials[n].claim = claim
                return
            self.model.recognitions[owner[3:]] = "used"
        else:
            answer = self.attempt(
                f"retire ({certificate} certificate)",
                lambda: self.clients[sender].post("/v1/retirements", retirement),
                expected_serials,
                registry,
            )
        if answer is not None and serials is not None:
            self.model.claim(serials, "retirement", f"{registry}:{retirement['retirement_id']}")
            for n in serials:
                self.model.serials[n].status = "retired"

    def _certificate_parts(self, certificate: str) -> list[dict[str, Any]]:
        recognition = self.clients["js"].get(f"/v1/recognitions/{certificate[3:]}")
        return [
            {k: p[k] for k in ("block_id", "namespace", "start", "end")}
            for p in recognition["request"]["blocks"]
        ]

    @rule(index=st.integers(0, 30), sender=st.sampled_from(["js", "js", "sh"]), release=st.booleans())
    def pledge(self, index: int, sender: str, release: bool) -> None:
        live = [b for b in self.blocks() if b["status"] != "exported"]
        block = live[index % len(live)]
        serials = list(range(block["serial_start"], block["serial_end"] + 1))
        registry = sender.upper()
        owner = f"block:{block['block_id']}"
        path = f"/v1/blocks/{block['block_id']}/{'release' if release else 'pledge'}"
        if release:
            ok = (
                all(self.model.serials[n].claim == ("pledge", owner) for n in serials)
                and block["current_registry"] == registry
            )
            expected = serials if ok else None
            before = self.snapshot()
            try:
                self.clients[sender].post(path, {"reason": "model-based test"})
            except HubProblem as problem:
                refusal: HubProblem | None = problem
            else:
                refusal = None
            if refusal is not None:
                check_refusal(refusal, False)
                assert not ok and self.snapshot() == before, refusal
                return
            assert expected is not None, "released a block that was not pledged by its holder"
            self.model.release("pledge", owner)
            for n in serials:
                self.model.serials[n].status = "held"
            return
        if (
            self.attempt(
                "pledge",
                lambda: self.clients[sender].post(path, {"reason": "model-based test"}),
                serials,
                registry,
            )
            is not None
        ):
            self.model.claim(serials, "pledge", owner)
            for n in serials:
                self.model.serials[n].status = "encumbered"

    @rule(index=st.integers(0, 50), operation=st.sampled_from(["transfer", "recognize", "retire", "pledge"]))
    def contest(self, index: int, operation: str) -> None:
        """Another operation on serials that a claim holds now (every kind of claim in turn)."""
        issued_pledge = ("pledge", "block:JS-B-2024-000310")  # always there: contested by other rules
        held = sorted({s.claim for s in self.model.serials.values() if s.claim and s.claim != issued_pledge})
        if not held:
            return
        claim = held[index % len(held)]
        serials = sorted(n for n, s in self.model.serials.items() if s.claim == claim)
        start = serials[0]
        end = next((n for k, n in enumerate(serials) if n != start + k), serials[-1] + 1) - 1
        holders = [
            b
            for b in self.clients["js"].get("/v1/blocks", namespace=NS, serial=start)
            if b["status"] != "exported"
        ]
        if not holders:
            return
        block = holders[0]
        end = min(end, block["serial_end"])
        named = {"block_id": block["block_id"], "namespace": NS, "start": start, "end": end}
        counted = named | {"quantity": end - start + 1, "unit": "tCO2e"}
        sender = self.model.serials[start].registry.lower()
        if operation == "transfer" and sender == "js":
            body = {
                "transfer_id": self.next_id("TR"),
                "destination": "SH",
                "to_account": {"registry": "SH", "account_id": "A-1"},
                "blocks": [named],
            }
            headers = {"Idempotency-Key": body["transfer_id"]}
            send: Callable[[], Any] = partial(
                self.clients["js"].request, "POST", "/v1/transfers", json_body=body, headers=headers
            )
        elif operation == "recognize" and sender == "js":
            request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
            request |= {
                "request_id": self.next_id("RR"),
                "blocks": [counted],
                "quantity": counted["quantity"],
            }
            send = partial(
                self.clients["js"].post, "/v1/recognitions", {"request": request, "verified_emissions": 10**9}
            )
        elif operation == "retire":
            retirement = example("retirement", "event-neutralization")
            retirement |= {
                "retirement_id": self.next_id("RT"),
                "registry": sender.upper(),
                "blocks": [counted],
                "quantity": counted["quantity"],
                "beneficiary": {"registry": sender.upper(), "account_id": "A-1"},
            }
            send = partial(self.clients[sender].post, "/v1/retirements", retirement)
        else:
            path = f"/v1/blocks/{block['block_id']}/pledge"
            send = partial(self.clients[sender].post, path, {"reason": "model-based test"})
        self.attempt(f"contest {claim[0]} with {operation}", send, None, sender.upper())

    @rule(index=st.integers(0, 20))
    def cancel(self, index: int) -> None:
        open_ = sorted(t for t, state in self.model.transfers.items() if state == "accepted")
        if not open_:
            return
        transfer = open_[index % len(open_)]
        assert self.clients["js"].post(f"/v1/transfers/{transfer}/cancel", {})["state"] == "cancelled"
        self.model.release("transfer", transfer)
        self.model.transfers[transfer] = "cancelled"

    @rule()
    def run_transfers(self) -> None:
        worker = TransferWorker(self.hub.database, self.hub.settings, transport=self.hub.client._transport)
        now = datetime.now(UTC)
        for n in range(4):
            worker.run_once(now + timedelta(seconds=n))
        for transfer, state in list(self.model.transfers.items()):
            if state != "accepted":
                continue
            found = self.clients["js"].get(f"/v1/transfers/{transfer}")
            assert found["state"] == "completed", found
            for n in self.model.release("transfer", transfer):
                self.model.serials[n].registry, self.model.serials[n].status = "SH", "imported"
            self.model.transfers[transfer] = "completed"

    # the invariant, checked after every step
    @invariant()
    def the_hub_agrees_with_the_model(self) -> None:
        blocks, claims = self.blocks(), self.claims()
        seen: dict[int, str] = {}
        for block in blocks:
            assert block["quantity"] == block["serial_end"] - block["serial_start"] + 1
            if block["status"] == "exported":
                continue
            for n in range(block["serial_start"], block["serial_end"] + 1):
                assert n not in seen, f"serial {n} is in {seen[n]} and {block['block_id']}"
                seen[n] = block["block_id"]
                truth = self.model.serials[n]
                assert (block["current_registry"], block["status"]) == (truth.registry, truth.status), (
                    n,
                    block,
                )
        assert sorted(seen) == sorted(ISSUED), "an issued serial is in no live block"
        for n, truth in self.model.serials.items():
            assert claims.get(n) == truth.claim, (n, claims.get(n), truth)
        for certificate, serials in self.model.certificates.items():
            if self.model.recognitions[certificate[3:]] == "approved":
                reserved = all(claims.get(n) == ("certificate", certificate) for n in serials)
                assert reserved, f"{certificate} names serials not reserved for it"


EXAMPLES = {"sqlite": 60, "postgresql": 20}
OUTCOMES: Counter[str] = Counter()  # what the requests met: printed with -s, to see the test bites


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_ledger_agrees_with_its_model(backend: str, request: pytest.FixtureRequest) -> None:
    with seeded_copies(backend, request) as fresh:
        LedgerMachine.make_hub = staticmethod(fresh)  # type: ignore[assignment]
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=EXAMPLES[backend],
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            ),
        )
    print(f"\n{backend}: " + "; ".join(f"{name} x{n}" for name, n in sorted(OUTCOMES.items())))
