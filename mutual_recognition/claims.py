"""Serial claims: which operation holds a serial, and which operation may follow which.

Every operation that must hold serials exclusively claims them: a recognition while it is
pending review, the certificate of an approved recognition until it is used or withdrawn, a
transfer until it is final, a pledge until it is released, a retirement for ever. At most one
active claim covers a serial (the hub's database guarantees it). A new claim on serials that are
claimed already is refused with the code of what holds them — except that a certificate's serials
may be taken by a transfer or a retirement that names that very certificate, which consumes it.

The whole rule is the table :data:`SUCCESSION`, read by :func:`may_follow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ClaimKind(StrEnum):
    RECOGNITION = "recognition"  # a recognition under review
    CERTIFICATE = "certificate"  # an approved recognition's certificate, not yet used
    TRANSFER = "transfer"  # a transfer that is not final
    PLEDGE = "pledge"  # a pledge (质押) not released
    RETIREMENT = "retirement"  # final


class Follow(StrEnum):
    FREE = "free"  # nothing holds the serials: the new claim is made
    UNDER_CERTIFICATE = "under-certificate"  # only by naming the certificate that holds them
    NEVER = "never"


# What holds the serials -> the code a refused newcomer gets.
HELD_CODE: dict[ClaimKind, str] = {
    ClaimKind.RECOGNITION: "3026",
    ClaimKind.CERTIFICATE: "3029",
    ClaimKind.TRANSFER: "3024",
    ClaimKind.PLEDGE: "3023",
    ClaimKind.RETIREMENT: "3021",
}

HELD_DETAIL: dict[ClaimKind, str] = {
    ClaimKind.RECOGNITION: "under recognition {owner}, pending review",
    ClaimKind.CERTIFICATE: "reserved for certificate {owner}; only an operation naming it may use them",
    ClaimKind.TRANSFER: "under transfer {owner}, not final",
    ClaimKind.PLEDGE: "pledged ({owner}) until released",
    ClaimKind.RETIREMENT: "retired ({owner}): final",
}

_NEW = tuple(ClaimKind)
SUCCESSION: dict[tuple[ClaimKind | None, ClaimKind], Follow] = {
    **{(None, new): Follow.FREE for new in _NEW},
    **{(held, new): Follow.NEVER for held in ClaimKind for new in _NEW},
    (ClaimKind.CERTIFICATE, ClaimKind.TRANSFER): Follow.UNDER_CERTIFICATE,
    (ClaimKind.CERTIFICATE, ClaimKind.RETIREMENT): Follow.UNDER_CERTIFICATE,
}


@dataclass(frozen=True, slots=True)
class Holder:
    """An active claim as the rules see it: its kind and the operation that made it."""

    kind: ClaimKind
    owner: str


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    consumes: str | None = None  # the certificate claim the newcomer takes over
    code: str | None = None
    detail: str = ""


def may_follow(held: Holder | None, new: ClaimKind, *, certificate: str | None = None) -> Verdict:
    """Whether an operation of kind ``new`` may claim serials that ``held`` holds (None: free).

    ``certificate``: the certificate (owner id of its claim) the newcomer names, if any."""
    rule = SUCCESSION[(held.kind if held else None, new)]
    if held is None:
        if certificate is not None:
            return Verdict(
                False, code="5014", detail=f"the serials are not reserved for certificate {certificate}"
            )
        return Verdict(True)
    if rule is Follow.UNDER_CERTIFICATE and certificate == held.owner:
        return Verdict(True, consumes=held.owner)
    return Verdict(False, code=HELD_CODE[held.kind], detail=HELD_DETAIL[held.kind].format(owner=held.owner))
