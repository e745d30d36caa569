"""Double issuance and personal duplicates, as tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from mutual_recognition.dedup import (
    Activity,
    Issuance,
    double_issuances,
    personal_duplicates,
    project_fingerprint,
)

KUNSHAN = {
    "location": {"province": "320000", "city": "320500", "district": "320583"},
    "capacity": {"value": 399, "unit": "kW"},
    "methodology": {"catalogue_id": "PV-DISTRIBUTED", "local_code": "JS-PV-DIST", "version": "1"},
    "owner_uscc_hash": "a" * 64,
}


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({}, True),
        ({"capacity": {"value": 399000, "unit": "W"}}, True),
        (
            {
                "methodology": {
                    "catalogue_id": "PV-DISTRIBUTED",
                    "local_code": "CMS-002-V01",
                    "version": "V01",
                }
            },
            True,
        ),
        ({"capacity": {"value": 400, "unit": "kW"}}, False),
        ({"owner_uscc_hash": "b" * 64}, False),
        ({"location": {"province": "320000", "city": "320500", "district": "320581"}}, False),
        ({"methodology": {"catalogue_id": "EV-CHARGING", "local_code": "x", "version": "1"}}, False),
    ],
)
def test_the_fingerprint_names_the_physical_project(change, same) -> None:
    assert (project_fingerprint({**KUNSHAN, **change}) == project_fingerprint(KUNSHAN)) is same


def _issuance(registry: str, start: str, end: str, fingerprint: str = "f") -> Issuance:
    return Issuance(registry, fingerprint, date.fromisoformat(start), date.fromisoformat(end), registry)


@pytest.mark.parametrize(
    ("new", "registered", "found"),
    [
        (_issuance("CCER", "2025-06-01", "2025-12-31"), _issuance("JS", "2025-01-01", "2025-12-31"), True),
        (_issuance("CCER", "2026-01-01", "2026-12-31"), _issuance("JS", "2025-01-01", "2025-12-31"), False),
        (_issuance("JS", "2025-06-01", "2025-12-31"), _issuance("JS", "2025-01-01", "2025-12-31"), False),
        (
            _issuance("CCER", "2025-06-01", "2025-12-31", "g"),
            _issuance("JS", "2025-01-01", "2025-12-31"),
            False,
        ),
    ],
    ids=["overlap-other-registry", "later-period", "same-registry", "other-project"],
)
def test_double_issuance(new, registered, found) -> None:
    assert bool(double_issuances([new], [registered])) is found


T0 = datetime(2025, 11, 1, 8, 2)


def _trip(
    platform: str, minutes: int = 0, trip: str | None = "L11-0802", subject: str = "s" * 64
) -> Activity:
    start = T0 + timedelta(minutes=minutes)
    return Activity(platform, subject, "TRANSIT-METRO", start, start + timedelta(minutes=17), trip, platform)


@pytest.mark.parametrize(
    ("new", "registered", "found"),
    [
        (_trip("ZJ"), _trip("SH"), True),
        (_trip("ZJ", trip=None), _trip("SH", minutes=5, trip=None), True),
        (_trip("ZJ", trip="L11-0900"), _trip("SH"), False),
        (_trip("ZJ", minutes=60, trip=None), _trip("SH", trip=None), False),
        (_trip("SH"), _trip("SH"), False),
        (_trip("ZJ", subject="t" * 64), _trip("SH"), False),
    ],
    ids=["same-trip", "overlapping-windows", "other-trip", "later-window", "same-platform", "other-person"],
)
def test_personal_duplicates(new, registered, found) -> None:
    assert bool(personal_duplicates([new], [registered])) is found
