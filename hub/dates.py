"""The one date type of requests: :data:`IsoDate`, an RFC 3339 ``full-date`` (``YYYY-MM-DD``).

pydantic's lax date reads a number (or a string of digits) as seconds since the epoch, so ``to=0``
or ``{"date": 86400}`` became a date in 1970 where the OpenAPI document says ``format: date``; an
``IsoDate`` takes the written form only (a ``date`` object passes, for callers in Python).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def written_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and FULL_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("iso_date", "a date is written YYYY-MM-DD (RFC 3339 full-date)")


IsoDate = Annotated[date, BeforeValidator(written_date)]
"""A date of a request, written ``YYYY-MM-DD``; numbers (epoch seconds) are refused."""


def aware(moment: datetime) -> datetime:
    """A stored timestamp as UTC-aware (SQLite gives naive datetimes back)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
