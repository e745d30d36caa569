"""Proposing many transfers in one signed request: all or nothing.

Every transfer of a batch passes exactly the checks of a single proposal
(:meth:`TransferService.check`, the serials through :class:`~hub.claims.service.Reservations`);
the transfers are checked in order, and the serials of each one that passes are taken, so a later
transfer of the same batch naming any of them is refused as a stored claim would make it (the
succession table's verdict, 3024). The claims of the whole batch are then written at once. One
refused transfer refuses the batch: nothing is written, and the answer lists every issue, each
pointing into the batch (``/transfers/3/blocks/0``).

Locks are taken in one order by every writer, so two batches (or a batch and single proposals)
never deadlock on PostgreSQL: the batch's idempotency key, then the transfers' ids (sorted), then
the serials' namespaces (sorted), the log head last (one bulk append).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from hub.claims.service import Reservations, Resolution, part_requests
from hub.idempotency.route import KeyReused
from hub.log.bulk import queue_changes
from hub.transfers.models import TransferBatch
from hub.transfers.repository import ProposalRepository
from hub.transfers.service import TransferRefused, TransferService, accepted_change, body_hash
from mutual_recognition.claims import ClaimKind, Holder, may_follow
from schemas.validation import Issue

MAX_BATCH = 1000
MAX_BATCH_PARTS = 10_000
"""Blocks or parts named by all the transfers of a batch together (each may name up to 1,000): a
batch of 1,000 transfers of 100 parts each fits the body limit and cost ~4 s of CPU to refuse,
its answer listing 100,000 issues."""


def item_key(transfer_id: str) -> str:
    """The idempotency key of a transfer proposed in a batch: the batch's key answers for it, and
    a client's key holds no control character (``hub.idempotency.route.checked_key``), so it
    never meets the separators, nor a key a client chose."""
    return f"\x1fbatch\x1f{transfer_id}"


class TransferBatches:
    def __init__(self, session: Session, deadline: timedelta) -> None:
        self.session = session
        self.service = TransferService(session, deadline)
        self.rows = ProposalRepository(session)

    def propose(
        self, body: dict[str, Any], *, key: str, client_id: str, sender: str
    ) -> tuple[dict[str, Any], bool]:
        """The batch's answer for this key (and whether it was made now); 6004 when the key was
        used with another body, 422 with every issue when any transfer is refused."""
        digest = body_hash(body)
        self.session.flush()  # what the caller's session holds is written before the Core reads
        # the key's lock is a single proposal's with the same key (a key is for one request)
        self.rows.lock_in_order([f"idempotency {client_id} {key}"])
        stored = self.rows.batch(client_id, key)
        if stored is not None:
            if stored.body_hash != digest:
                raise KeyReused("this Idempotency-Key was used with another body", code="6004")
            return stored.answer, False
        if self.rows.key_used(client_id, key):
            raise KeyReused("this Idempotency-Key was used for a single transfer", code="6004")
        proposals: list[dict[str, Any]] = body["transfers"]
        ids = [proposal["transfer_id"] for proposal in proposals]
        reservations = Reservations(self.session)
        namespaces = sorted({part["namespace"] for proposal in proposals for part in proposal["blocks"]})
        # the transfers' ids (sorted), then the namespaces (sorted): one statement
        self.rows.lock_in_order([*sorted({f"transfer {i}" for i in ids}), *namespaces])
        reservations.locked |= set(namespaces)
        issues = self._known(ids)
        destinations = sorted({proposal["destination"] for proposal in proposals})
        statuses = self.rows.platform_statuses(destinations)
        active = {code: statuses.get(code) == "active" for code in destinations}
        for code in statuses:  # served here: not across hubs
            self.service.peers.setdefault(code, None)
        reservations.known.update(
            self.rows.blocks({part["block_id"] for proposal in proposals for part in proposal["blocks"]})
        )
        reservations.read_claims_ahead(
            part_requests([p for proposal in proposals for p in proposal["blocks"]])
        )
        taken = Taken()
        rows: list[dict[str, Any]] = []
        claiming: list[tuple[Resolution, str]] = []
        for position, proposal in enumerate(proposals):
            refused, resolution = self.service.check(
                proposal, sender=sender, reservations=reservations, active=active
            )
            transfer_id = proposal["transfer_id"]
            # serials an earlier transfer of the batch claims (its claim is not written yet)
            refused += taken.refusals(resolution, transfer_id, proposal.get("certificate_id"))
            if refused:
                issues += [Issue(f"/transfers/{position}{i.pointer}", i.code, i.detail) for i in refused]
                continue
            claiming.append((resolution, transfer_id))
            rows.append(
                self.service.accepted_row(
                    proposal, resolution, key=item_key(transfer_id), client_id=client_id, sender=sender
                )
            )
        if issues:
            issues.sort(key=lambda issue: _position(issue.pointer))
            raise TransferRefused(
                f"{len(issues)} check(s) failed; no transfer of the batch is proposed",
                code=issues[0].code,
                errors=issues,
            )
        self.rows.add_many(rows)
        reservations.claim_each(claiming, ClaimKind.TRANSFER)
        answer = {
            "count": len(rows),
            "quantity": sum(row["quantity"] for row in rows),
            "transfers": [
                {
                    "transfer_id": row["id"],
                    "state": row["state"],
                    "itl_status": row["itl_status"],
                    "quantity": row["quantity"],
                }
                for row in rows
            ],
        }
        self.session.add(
            TransferBatch(client_id=client_id, idempotency_key=key, body_hash=digest, answer=answer)
        )
        queue_changes(  # appended last, when the batch commits
            self.session,
            [
                accepted_change(row["id"], actor=client_id, origin=sender, request=row["request"])
                for row in rows
            ],
        )
        return answer, True

    def _known(self, ids: list[str]) -> list[Issue]:
        """3012 for a transfer id named twice in the batch, or known already."""
        issues: list[Issue] = []
        seen = Counter[str]()
        for position, transfer_id in enumerate(ids):
            seen[transfer_id] += 1
            if seen[transfer_id] == 2:
                issues.append(
                    Issue(
                        f"/transfers/{position}/transfer_id", "3012", f"transfer {transfer_id} is named twice"
                    )
                )
        existing = self.rows.existing(sorted(set(ids)))
        issues += [
            Issue(f"/transfers/{position}/transfer_id", "3012", f"transfer {transfer_id} exists")
            for position, transfer_id in enumerate(ids)
            if transfer_id in existing
        ]
        return issues


class Taken:
    """The serials the batch's accepted transfers claim so far, per namespace, in serial order
    (they never overlap: an overlapping part is refused)."""

    def __init__(self) -> None:
        self.starts: dict[str, list[int]] = defaultdict(list)
        self.spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)

    def refusals(self, resolution: Resolution, owner: str, certificate: str | None) -> list[Issue]:
        """Why the resolution's parts may not follow the batch's earlier claims (the succession
        table's verdict, as against a stored claim); its parts are taken when there is none."""
        issues: list[Issue] = []
        for part in resolution.parts:
            low, high = part.serials.start, part.serials.end
            starts, spans = self.starts[part.namespace], self.spans[part.namespace]
            at = bisect.bisect_right(starts, high)
            if at and spans[at - 1][1] >= low:  # the last claim starting at or before ``high``
                verdict = may_follow(
                    Holder(ClaimKind.TRANSFER, spans[at - 1][2]), ClaimKind.TRANSFER, certificate=certificate
                )
                if not verdict.allowed:
                    issues.append(Issue(f"/blocks/{part.position}", verdict.code or "3026", verdict.detail))
        if not issues and not resolution.issues:
            for part in resolution.parts:
                at = bisect.bisect_right(self.starts[part.namespace], part.serials.start)
                self.starts[part.namespace].insert(at, part.serials.start)
                self.spans[part.namespace].insert(at, (part.serials.start, part.serials.end, owner))
        return issues


def _position(pointer: str) -> int:
    rest = pointer.removeprefix("/transfers/").split("/", 1)[0]
    return int(rest) if rest.isdigit() else -1
