"""The statuses of a registered credit block, and what moves a block from one to another.

A block is issued held (or encumbered, when the origin registry pledged it); it arrives at a
destination imported. Held and imported blocks may be pledged, locked for a transfer or retired.
A locked block is exported when its transfer completes, or held again when the transfer is
compensated; a pledged block is held again when released. Retired and cancelled are final; an
exported block never moves again from its origin.
"""

from __future__ import annotations

from enum import StrEnum

from mutual_recognition.machine import Machine


class BlockStatus(StrEnum):
    HELD = "held"
    IMPORTED = "imported"
    ENCUMBERED = "encumbered"
    LOCKED = "locked"
    EXPORTED = "exported"
    RETIRED = "retired"
    CANCELLED = "cancelled"


B = BlockStatus
USABLE = frozenset({B.HELD, B.IMPORTED})
BLOCK = Machine[BlockStatus](
    "block",
    {
        B.HELD: frozenset({B.ENCUMBERED, B.LOCKED, B.RETIRED, B.CANCELLED}),
        B.IMPORTED: frozenset({B.ENCUMBERED, B.LOCKED, B.RETIRED, B.CANCELLED}),
        B.ENCUMBERED: frozenset({B.HELD}),
        B.LOCKED: frozenset({B.EXPORTED, B.HELD}),
        B.EXPORTED: frozenset({B.IMPORTED}),  # the serials come back to their origin
        B.RETIRED: frozenset(),
        B.CANCELLED: frozenset(),
    },
)
