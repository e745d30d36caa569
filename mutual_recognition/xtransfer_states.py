"""The phases of a transfer's exchange between two hubs (docs/federation-transfers.md).

Both hubs keep one row per transfer in these phases. offered → committed → completed: the origin's
hub offered the locked serials, decided to commit (its offer was answered ready before the
deadline), and the destination's hub credited its platform. offered → aborted: the origin's hub
decided to abort (its deadline passed before the answer); the destination credits nothing.
offered → refused (the destination's hub refused the offer) and committed → refused (its platform
refused the credit, definitively): the origin's hub unlocks at its platform. A decision is taken
once: offered goes to committed or aborted, never both.
"""

from __future__ import annotations

from enum import StrEnum

from mutual_recognition.machine import Machine


class Phase(StrEnum):
    OFFERED = "offered"
    COMMITTED = "committed"
    COMPLETED = "completed"
    REFUSED = "refused"
    ABORTED = "aborted"


PHASES: dict[Phase, frozenset[Phase]] = {
    Phase.OFFERED: frozenset({Phase.COMMITTED, Phase.ABORTED, Phase.REFUSED}),
    Phase.COMMITTED: frozenset({Phase.COMPLETED, Phase.REFUSED}),
    Phase.COMPLETED: frozenset(),
    Phase.REFUSED: frozenset(),
    Phase.ABORTED: frozenset(),
}
EXCHANGE = Machine[Phase]("cross-hub transfer", PHASES)
FINAL = EXCHANGE.final


def decision_taken(phase: Phase) -> str | None:
    """The origin's decision a phase implies: ``commit`` (committed and after), ``abort``, or None
    (offered; or refused by the destination, which needs no decision)."""
    if phase in (Phase.COMMITTED, Phase.COMPLETED):
        return "commit"
    if phase is Phase.ABORTED:
        return "abort"
    return None


def outcome_of(phase: Phase) -> str | None:
    """The destination's outcome a phase records: ``credited``, ``refused`` or None (none yet)."""
    return {Phase.COMPLETED: "credited", Phase.REFUSED: "refused"}.get(phase)
