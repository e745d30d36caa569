"""Telling a client it used a deprecated member: ``Deprecation`` (RFC 9745, a structured-field
date), ``Sunset`` (RFC 8594, the moment after which it is refused) and a ``Link`` to the list of
deprecations (rel="deprecation")."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime

from fastapi import Response

from mutual_recognition.vocabulary import CurrentForm

DEPRECATIONS_DOC = "https://schemas.puhui-hub.org/docs/exchange-schema#one-vocabulary-and-deprecations"


def announce(response: Response, form: CurrentForm) -> None:
    """Set the headers when ``form`` used deprecated members; nothing otherwise."""
    if form.since is None or form.sunset is None:
        return
    since = datetime.combine(form.since, time(), tzinfo=UTC)
    # accepted through the sunset day, China Standard Time: refused from the next day's 00:00 +08:00
    sunset = datetime.combine(form.sunset + timedelta(days=1), time(), tzinfo=UTC) - timedelta(hours=8)
    response.headers["Deprecation"] = f"@{int(since.timestamp())}"
    response.headers["Sunset"] = format_datetime(sunset, usegmt=True)
    response.headers["Link"] = f'<{DEPRECATIONS_DOC}>; rel="deprecation"'
