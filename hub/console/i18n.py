"""The console's two languages: a message catalogue (messages.json, every key in Chinese and English),
the choice of language (the operator's cookie, else the browser's Accept-Language, else Chinese) and
a translator for the templates."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
LANGUAGE_COOKIE = "puhui_lang"

Translator = Callable[..., str]


@cache
def catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("hub.console").joinpath("messages.json").read_text("utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The cookie when it names a language we have; else the first of ours the browser accepts
    (by quality, RFC 9110 §12.5.4); else Chinese."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


def translator(language: str) -> Translator:
    """`t(key, **values)`: the message in `language` with its {named} fields filled. An unknown key is a
    programming error (tests check every key the templates use) and raises KeyError."""
    messages = catalogue()

    def t(key: str, **values: Any) -> str:
        text = messages[key][language]
        return text.format(**values) if values else text

    return t
