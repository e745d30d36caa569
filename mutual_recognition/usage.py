"""Using a recognition certificate: whether an operation fits the certificate it names.

A certificate recognizes credits for one destination, one purpose and (for ETS compliance) one
covered entity and year. A retirement under it must retire for that purpose, for a beneficiary of
that destination; a transfer under it must go to that destination. Each function returns why not,
or None when the operation fits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Recognition purposes and the retirement purpose kinds that serve them.
RETIREMENT_KIND = {
    "ets-compliance": "ets-compliance",
    "voluntary-neutralization": "voluntary-neutralization",
    "points-exchange": "points-redemption",
    "charitable-retirement": "charitable-retirement",
}


def compliance_of_retirement(retirement: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ETS compliance (covered entity, year) a retirement in the current form
    (``mutual_recognition.vocabulary``) serves; None for another purpose."""
    if retirement["purpose"]["kind"] != "ets-compliance":
        return None
    return dict(retirement.get("compliance") or {})


def certificate_fits_retirement(
    *, destination: str, purpose: str, compliance: Mapping[str, Any] | None, retirement: Mapping[str, Any]
) -> str | None:
    where = retirement["beneficiary"]["registry"]
    if where != destination:
        return f"the certificate recognizes credits for {destination}, not {where}"
    kind = retirement["purpose"]["kind"]
    if RETIREMENT_KIND.get(purpose) != kind:
        return f"the certificate recognizes credits for {purpose}, not {kind}"
    if purpose == "ets-compliance" and compliance_of_retirement(retirement) != dict(compliance or {}):
        return "the certificate is for another covered entity or compliance year"
    return None


def certificate_fits_transfer(*, destination: str, transfer_destination: str) -> str | None:
    if transfer_destination != destination:
        return f"the certificate recognizes credits for {destination}, not {transfer_destination}"
    return None
