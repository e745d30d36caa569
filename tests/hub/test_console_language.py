"""The console in Chinese and English: the catalogue is complete, every key a template uses exists,
the language follows the operator's choice, and the markup keeps what assistive technology needs."""

from __future__ import annotations

import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.console.accounts import Accounts
from hub.console.i18n import LANGUAGE_COOKIE, LANGUAGES, catalogue, choose
from hub.console.review import ORDERS, PURPOSES
from hub.recognition.service import OPEN

TEMPLATES = Path(__file__).parents[2] / "hub" / "console" / "templates"
CONSOLE = Path(__file__).parents[2] / "hub" / "console"
TABLES = ("matrix", "flows", "regions", "methodologies", "vintages", "holdings", "transfers", "events")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_is_in_both_languages_with_the_same_placeholders() -> None:
    for key, texts in catalogue().items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[language].strip() for language in LANGUAGES), key
        assert _fields(texts["zh"]) == _fields(texts["en"]), key
        if key != "language.other":
            assert not CJK.search(texts["en"]), f"{key}: Chinese in the English text"
            assert CJK.search(texts["zh"]) or texts["zh"] == texts["en"] or key.startswith("verify.key"), key


def test_every_key_the_console_uses_is_in_the_catalogue() -> None:
    sources = [path.read_text("utf-8") for path in [*TEMPLATES.glob("*.html"), *CONSOLE.glob("*.py")]]
    literal = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.-]+)["']""")
    keyed = re.compile(r"""["']((?:login|csrf|recognition|certificate|decision|language|dashboard|"""
                       r"""ruleset|check|verify)\.[a-z_]+)["']""")  # fmt: skip
    found = {key for text in sources for key in literal.findall(text) + keyed.findall(text)}
    used = {key for key in found if not key.endswith(".html")}  # template names look alike
    assert len(used) > 60
    missing = used - set(catalogue())
    assert not missing, missing


def test_keys_built_from_values_cover_every_value() -> None:
    keys = set(catalogue())
    common = json.loads((Path(__file__).parents[2] / "schemas" / "v1" / "common.json").read_text("utf-8"))
    assert set(PURPOSES) == set(common["$defs"]["purpose"]["enum"])
    for prefix, values in [
        ("purpose", PURPOSES),
        ("status", (*OPEN, "approved", "rejected")),
        ("order", tuple(ORDERS)),
        ("change", ("added", "removed", "changed")),
        (
            "table",
            ("matrix", "flows", "regions", "methodologies", "vintages", "holdings", "transfers", "events"),
        ),
    ]:
        assert {f"{prefix}.{value}" for value in values} <= keys, prefix


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "zh"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.5, zh-CN;q=0.8", "zh"),
        (None, "zh-TW;q=0, en;q=0.1", "en"),
        (None, "de, fr", "zh"),
        (None, "en;q=abc, zh", "zh"),
        ("en", "zh-CN", "en"),
        ("xx", "en", "en"),
    ],
)
def test_the_language_is_the_cookie_else_the_browsers_else_chinese(cookie, header, expected) -> None:
    assert choose(cookie, header) == expected


def test_the_sign_in_page_follows_accept_language_and_the_switch(client: TestClient, federation) -> None:
    chinese = client.get("/console/login")
    assert '<html lang="zh-CN">' in chinese.text and "用户名" in chinese.text
    assert 'lang="en" hreflang="en">English</a>' in chinese.text
    english = client.get("/console/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english.text and "User name" in english.text and "用户名" not in english.text
    switched = client.get(
        "/console/language", params={"lang": "en", "next": "/console/login"}, follow_redirects=False
    )
    assert (switched.status_code, switched.headers["location"]) == (303, "/console/login")
    assert f"{LANGUAGE_COOKIE}=en" in switched.headers["set-cookie"]
    assert "Path=/console" in switched.headers["set-cookie"]
    client.cookies.set(LANGUAGE_COOKIE, "en")
    assert "Sign in" in client.get("/console/login", headers={"Accept-Language": "zh-CN"}).text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/console",
        "//evil.example/console",
        "/v1/platforms",
        "/consoles",
        "/console\\..\\x",
    ],
)
def test_the_language_switch_only_returns_inside_the_console(client: TestClient, federation, target) -> None:
    switched = client.get("/console/language", params={"lang": "zh", "next": target}, follow_redirects=False)
    assert switched.headers["location"] == "/console"


def test_an_unknown_language_is_refused(client: TestClient, federation) -> None:
    for params in [{"lang": "fr"}, {}]:
        refused = client.get("/console/language", params=params, follow_redirects=False)
        assert refused.status_code == 400 and refused.headers["content-type"].startswith("text/html")
        assert "set-cookie" not in refused.headers


class _Markup(HTMLParser):
    """What an accessibility review checks in the served HTML: one h1, labelled controls, tables
    with captions and header scopes, a language on the document."""

    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.controls: list[str] = []
        self.labels: set[str] = set()
        self.tables = 0
        self.captions = 0
        self.unscoped_th = 0
        self.html_lang: str | None = None
        self.images_without_name = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.html_lang = values.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append(values.get("id") or "")
        elif tag == "label" and values.get("for"):
            self.labels.add(values["for"] or "")
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and values.get("scope") not in ("col", "row"):
            self.unscoped_th += 1
        elif tag == "svg" and values.get("role") == "img" and not values.get("aria-labelledby"):
            self.images_without_name += 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_is_marked_up_for_assistive_technology(
    client: TestClient, database, federation, language
) -> None:
    with database.unit_of_work() as session:
        password = Accounts(session).add("alice", "SH")
    client.cookies.set(LANGUAGE_COOKIE, language)
    pages = ["/console/login"]
    form = client.get("/console/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token
    client.post("/console/login", data={"username": "alice", "password": password, "csrf": token.group(1)})
    pages += ["/console", "/console/dashboard", "/console/rulesets"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        markup = _Markup()
        markup.feed(response.text)
        assert markup.html_lang == {"zh": "zh-CN", "en": "en"}[language], path
        assert markup.h1 == 1, path
        assert all(control and control in markup.labels for control in markup.controls), path
        assert markup.tables == markup.captions, path
        assert markup.unscoped_th == 0, path
        assert markup.images_without_name == 0, path
        assert 'href="#main"' in response.text and '<main id="main"' in response.text, path


# Whatever a browser (or someone with curl) sends, the console answers with a page, never a 5xx.

ANY_TEXT = st.text(max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.dictionaries(st.sampled_from(["origin", "purpose", "status", "order", "page"]), ANY_TEXT),
    language=st.dictionaries(st.sampled_from(["lang", "next"]), ANY_TEXT),
    form=st.dictionaries(st.sampled_from(["decision", "reason", "csrf", "extra"]), ANY_TEXT),
    recognition=ANY_TEXT.map(lambda text: quote(text, safe="")).filter(
        lambda text: text not in ("", ".", "..")
    ),
)
def test_odd_input_never_breaks_the_console(
    client: TestClient, database, federation, query, language, form, recognition
) -> None:
    with database.unit_of_work() as session:
        accounts = Accounts(session)
        if all(account.username != "fuzz" for account in accounts.listing()):  # once per database
            accounts.add("fuzz", "SH", password="fuzz-password-123")
    page = client.get("/console/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    client.post(
        "/console/login", data={"username": "fuzz", "password": "fuzz-password-123", "csrf": token.group(1)}
    )
    answers = [
        client.get("/console", params=query),
        client.get("/console/language", params=language, follow_redirects=False),
        client.get(f"/console/recognitions/{recognition}"),
        client.post(f"/console/recognitions/{recognition}/decision", data=form),
        client.get("/console/dashboard.csv", params={"table": query.get("origin", "")}),
        client.post("/console/login", data=form),
    ]
    assert all(answer.status_code < 500 for answer in answers), [a.status_code for a in answers]
