"""Reserving serials: the one place every operation that must hold serials goes through.

``Reservations.resolve`` reads the blocks a request names, normalizes its parts
(``mutual_recognition.parts``), runs the block checks (held by the sender, status) and asks the
succession table (``mutual_recognition.claims``) whether the serials may be claimed; ``claim``
then writes the claims — after ending the certificate claim a newcomer consumes — in the caller's
transaction, under the namespaces' lock. The database refuses two active claims on one serial
whatever happens here (``hub.claims.models``).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session

from hub.claims.repository import ActiveClaim, ClaimRepository, NewClaim
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from mutual_recognition.checks import CheckOutcome, block_checks
from mutual_recognition.claims import ClaimKind, Holder, Verdict, may_follow
from mutual_recognition.parts import BlockExtent, Normalized, Part, PartRequest, normalize
from schemas.validation import Issue


class HeldBlock(Protocol):
    """What a resolution reads of a block: where its serials lie, who holds it, its status
    (a :class:`~hub.registry.models.CreditBlock`, or a plain row of these columns)."""

    @property
    def block_id(self) -> str: ...
    @property
    def serial_namespace(self) -> str: ...
    @property
    def serial_start(self) -> int: ...
    @property
    def serial_end(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def current_registry(self) -> str: ...


@dataclass
class Resolution:
    """What a request's serials resolved to: the parts, their blocks, every check outcome, the
    issues that refuse it, and the certificate it consumes (if it names one that holds them)."""

    normalized: Normalized
    blocks: Mapping[str, HeldBlock]
    outcomes: list[CheckOutcome] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    consumes: str | None = None

    @property
    def parts(self) -> tuple[Part, ...]:
        return self.normalized.parts

    @property
    def quantity(self) -> int:
        return self.normalized.quantity

    def pairs(self) -> list[tuple[HeldBlock, Part]]:
        return [(self.blocks[part.block_id], part) for part in self.parts]


@dataclass
class ClaimsAhead:
    """The active claims of one namespace touching the ranges read ahead (``ranges``), in serial
    order: active claims never overlap, so their ends are in order too."""

    ranges: set[tuple[int, int]]
    claims: list[ActiveClaim]

    def __post_init__(self) -> None:
        self.starts = [claim.start for claim in self.claims]
        self.ends = [claim.end for claim in self.claims]

    def overlapping(self, low: int, high: int) -> list[ActiveClaim]:
        """The claims sharing a serial with [low, high], one of the ranges read ahead."""
        return self.claims[bisect.bisect_left(self.ends, low) : bisect.bisect_right(self.starts, high)]


def part_requests(items: Sequence[dict[str, object]]) -> list[PartRequest]:
    """Parts as the exchange records name them (``block_id``, ``namespace``, ``start``, ``end``,
    ``quantity``; the bounds default to the whole block)."""
    return [
        PartRequest(
            block_id=str(item.get("block_id", "")),
            namespace=str(item.get("namespace", "")),
            start=item.get("start"),  # type: ignore[arg-type]
            end=item.get("end"),  # type: ignore[arg-type]
            quantity=item.get("quantity"),  # type: ignore[arg-type]
        )
        for item in items
    ]


class Reservations:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.claims = ClaimRepository(session)
        self.registry = RegistryRepository(session)
        self.known: dict[str, HeldBlock] = {}  # blocks read ahead for the requests to come
        self.locked: set[str] = set()  # namespaces locked by this instance's transaction
        self.ahead: dict[str, ClaimsAhead] = {}  # claims read ahead, per namespace

    def lock(self, namespaces: Iterable[str]) -> None:
        """Lock the namespaces (sorted) for the rest of the transaction; a resolution that follows
        takes only those not locked yet (a batch of requests locks all of its namespaces first)."""
        wanted = set(namespaces) - self.locked
        self.claims.lock(wanted)
        self.locked |= wanted

    def read_ahead(self, ids: Iterable[str]) -> None:
        """Read these blocks at once for the resolutions that follow (a batch of requests: nothing
        moves blocks between its resolutions)."""
        self.known.update(self._blocks(set(ids)))

    def read_claims_ahead(self, requested: Iterable[PartRequest]) -> None:
        """Read the active claims over the serials of these parts at once, one statement per
        namespace (a batch of requests, its namespaces locked and its blocks read ahead: nothing
        writes claims between its resolutions). A part whose serials are not read ahead (its
        block unknown, its bounds not plain) is looked up on its own when resolved."""
        wanted: dict[str, set[tuple[int, int]]] = defaultdict(set)
        for part in requested:
            block = self.known.get(part.block_id)
            if block is None or block.serial_namespace != part.namespace:
                continue
            low = block.serial_start if part.start is None else part.start
            high = block.serial_end if part.end is None else part.end
            if type(low) is int and type(high) is int and low <= high:
                wanted[part.namespace].add((low, high))
        for namespace in sorted(wanted):
            ranges = wanted[namespace]
            self.ahead[namespace] = ClaimsAhead(
                ranges, self.claims.overlapping_any(namespace, sorted(ranges))
            )

    def stored(self, resolution: Resolution) -> list[tuple[CreditBlock, Part]]:
        """``resolution.pairs()`` with each block as its stored row (one read for the blocks
        that were read ahead as plain rows): for what needs more of a block than a resolution."""
        plain = {block.block_id for block in resolution.blocks.values() if not isinstance(block, CreditBlock)}
        rows = self._read(plain) if plain else {}
        return [
            (block if isinstance(block, CreditBlock) else rows[block.block_id], part)
            for block, part in resolution.pairs()
        ]

    def _read(self, ids: set[str]) -> dict[str, CreditBlock]:
        return self.registry.stored_blocks(ids)

    def _blocks(self, ids: set[str]) -> dict[str, HeldBlock]:
        found = {block_id: self.known[block_id] for block_id in ids if block_id in self.known}
        missing = sorted(ids - found.keys())
        if missing:
            found |= self._read(set(missing))
        return found

    def resolve(
        self,
        requested: Sequence[PartRequest],
        *,
        sender: str,
        kind: ClaimKind,
        certificate: str | None = None,
        prefix: str = "/blocks",
    ) -> Resolution:
        """Lock the namespaces, then check every part; nothing is written."""
        self.lock(part.namespace for part in requested)
        blocks = self._blocks({part.block_id for part in requested})
        extents = {
            b.block_id: BlockExtent(b.block_id, b.serial_namespace, b.serial_start, b.serial_end)
            for b in blocks.values()
        }
        normalized = normalize(requested, extents, prefix=prefix)
        resolution = Resolution(normalized, blocks, issues=list(normalized.issues))
        consumed = 0
        for part in normalized.parts:
            block = blocks[part.block_id]
            here = f"{prefix}/{part.position}"
            found = block_checks(block.block_id, block.status, block.current_registry, sender)
            resolution.outcomes += found
            resolution.issues += [Issue(here, o.code, o.detail) for o in found if not o.passed]
            refused = 0
            for verdict, serials in self._verdicts(part, kind, certificate):
                if verdict.consumes:
                    consumed += serials
                elif not verdict.allowed:
                    refused += 1
                    resolution.issues.append(Issue(here, verdict.code or "3026", verdict.detail))
                    resolution.outcomes.append(CheckOutcome(verdict.code or "3026", False, verdict.detail))
            if not refused:
                free = f"serials {part.serials.start}-{part.serials.end} are held by no other operation"
                resolution.outcomes.append(CheckOutcome("3026", True, free))
        if certificate is not None and consumed:
            reserved = sum(
                c.serial_end - c.serial_start + 1 for c in self.claims.of(ClaimKind.CERTIFICATE, certificate)
            )
            if consumed != reserved:
                detail = (
                    f"certificate {certificate} reserves {reserved} serials; it is used whole,"
                    f" not {consumed} of them"
                )
                resolution.issues.append(Issue("/certificate_id", "5014", detail))
            resolution.consumes = certificate
        resolution.issues.sort(key=lambda issue: (_position(issue.pointer, prefix), issue.pointer))
        return resolution

    def _verdicts(self, part: Part, kind: ClaimKind, certificate: str | None) -> list[tuple[Verdict, int]]:
        """One verdict per stretch of the part — each active claim over it, each free gap — with
        the number of the part's serials in the stretch."""
        verdicts: list[tuple[Verdict, int]] = []
        low, high = part.serials.start, part.serials.end
        cursor = low
        ahead = self.ahead.get(part.namespace)
        if ahead is not None and (low, high) in ahead.ranges:
            found = ahead.overlapping(low, high)
        else:
            found = self.claims.overlapping(part.namespace, low, high)
        for claim in found:
            if claim.start > cursor:
                verdicts.append((may_follow(None, kind, certificate=certificate), claim.start - cursor))
            held = Holder(claim.kind, claim.owner)
            serials = min(claim.end, high) - max(claim.start, low) + 1
            verdicts.append((may_follow(held, kind, certificate=certificate), serials))
            cursor = max(cursor, claim.end + 1)
        if cursor <= high:
            verdicts.append((may_follow(None, kind, certificate=certificate), high - cursor + 1))
        return verdicts

    def claim(self, resolution: Resolution, kind: ClaimKind, owner: str) -> None:
        """Write the claims of a resolution that has no issues (ending the certificate claim it
        consumes first)."""
        self.claims.add_each(kind, self.to_claim(resolution, owner))

    def to_claim(self, resolution: Resolution, owner: str) -> list[tuple[str, NewClaim]]:
        """What ``claim`` writes, for the caller to write with its own rows (the certificate
        claim the resolution consumes is ended now)."""
        assert not resolution.issues, "only a resolution without issues is claimed"
        if resolution.consumes is not None:
            self.claims.release(ClaimKind.CERTIFICATE, resolution.consumes)
        return [
            (owner, NewClaim(part.namespace, part.serials.start, part.serials.end))
            for part in resolution.parts
        ]

    def claim_each(self, resolutions: Sequence[tuple[Resolution, str]], kind: ClaimKind) -> None:
        """:meth:`claim` for many owners (a batch of requests), their claims written at once. The
        caller has checked that the resolutions share no serial."""
        owned: list[tuple[str, NewClaim]] = []
        for resolution, owner in resolutions:
            assert not resolution.issues, "only a resolution without issues is claimed"
            if resolution.consumes is not None:
                self.claims.release(ClaimKind.CERTIFICATE, resolution.consumes)
            owned += [
                (owner, NewClaim(part.namespace, part.serials.start, part.serials.end))
                for part in resolution.parts
            ]
        self.claims.add_each(kind, owned)

    def release(self, kind: ClaimKind, owner: str) -> int:
        return self.claims.release(kind, owner)

    def give_back(self, owner: str, certificate: str) -> None:
        """A transfer that took a certificate's serials ended without completing: they are the
        certificate's again."""
        held = self.claims.of(ClaimKind.TRANSFER, owner)
        self.claims.release(ClaimKind.TRANSFER, owner)
        self.claims.add(
            ClaimKind.CERTIFICATE,
            certificate,
            [NewClaim(c.namespace, c.serial_start, c.serial_end) for c in held],
        )

    def hand_over(self, kind: ClaimKind, owner: str, new_kind: ClaimKind, new_owner: str) -> int:
        return self.claims.hand_over(kind, owner, new_kind, new_owner)


def _position(pointer: str, prefix: str) -> int:
    rest = pointer.removeprefix(prefix + "/").split("/", 1)[0]
    return int(rest) if rest.isdigit() else -1
