"""The one string type of request models — every free-text or identifier field is a :data:`Text` —
and the one integer type, :data:`Integer`.

A NUL character (PostgreSQL cannot hold it in text, SQLite can: the backends would answer
differently) or a lone UTF-16 surrogate (no UTF-8 form: canonicalization and every encoder fail on
it) is refused wherever the value comes from, with check code 1049 and the field's pointer. JSON
bodies are refused for the same reasons before any model sees them (hub.strict); this type holds
the rule for every other way a value reaches a model.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AnyHttpUrl, Strict
from pydantic_core import PydanticCustomError

from schemas.strict_json import text_problem

TEXT_ERROR = "text_character"
"""The pydantic error type of a refused :data:`Text` (rendered with check code 1049)."""


def checked_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise PydanticCustomError(TEXT_ERROR, "the text {problem}", {"problem": problem})
    return value


Text = Annotated[str, AfterValidator(checked_text)]
"""A string of a request: no NUL character, no lone UTF-16 surrogate (1049)."""


Integer = Annotated[int, Strict()]
"""An integer of a request: a JSON integer, never a string of digits, a boolean or a float."""


URL_MAX_LENGTH = 500
"""The columns that keep a URL (a platform's webhook and API, a peered hub's address) hold 500."""


def _fits_its_column(url: AnyHttpUrl) -> AnyHttpUrl:
    """The URL as it is stored (normalized: percent-encoded, punycode), at most 500 characters."""
    if len(str(url)) > URL_MAX_LENGTH:
        raise PydanticCustomError(
            "url_too_long",
            "the URL is longer than {limit} characters as stored (normalized)",
            {"limit": URL_MAX_LENGTH},
        )
    return url


StoredUrl = Annotated[AnyHttpUrl, AfterValidator(_fits_its_column)]
"""An http(s) URL of a request that is kept: at most :data:`URL_MAX_LENGTH` characters once
normalized (1002 at its pointer otherwise, never the column's error)."""
