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

from pydantic import AfterValidator, Strict
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
