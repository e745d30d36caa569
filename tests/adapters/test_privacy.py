"""Keyed pseudonyms: normalization, domain separation, the key, and errors that never echo."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from adapters.privacy import (
    IdentifierError,
    Pseudonymizer,
    id_check_character,
    is_pseudonym,
    normalize_national_id,
    normalize_phone,
    normalize_uscc,
)

KEY = b"privacy test federation key 0001"
P = Pseudonymizer(KEY, key_id="k1")


def test_the_gb_11643_check_character_of_the_standard_example() -> None:
    assert id_check_character("11010519491231002") == "X"
    assert normalize_national_id("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13800138001", "13800138001"),
        ("+86 138 0013 8001", "13800138001"),
        ("+86-138-0013-8001", "13800138001"),
        ("008613800138001", "13800138001"),
        ("8613800138001", "13800138001"),
        ("138\u30000013 8001", "13800138001"),
    ],
)
def test_phone_normalization(raw: str, normal: str) -> None:
    assert normalize_phone(raw) == normal
    assert P.phone(raw) == P.phone(normal)


@pytest.mark.parametrize("raw", ["1380013800", "23800138001", "+1 650 253 0000", "138001380011", "phone"])
def test_invalid_phones_are_refused_without_echo(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        P.phone(raw)
    assert raw not in str(caught.value)


@pytest.mark.parametrize("raw", ["33080219000101001x", " 330802 19000101 001X ", "33080219000101001X"])
def test_national_id_normalization(raw: str) -> None:
    assert P.national_id(raw) == P.national_id("33080219000101001X")


@pytest.mark.parametrize(
    "raw", ["330802190001010011", "3308021900010100", "33080218000101001X", "33080219001301001X"]
)
def test_invalid_national_ids_are_refused_without_echo(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        P.national_id(raw)
    assert raw not in str(caught.value)


def test_unified_social_credit_codes() -> None:
    assert normalize_uscc(" 91320583ma1t8k2q3p ") == "91320583MA1T8K2Q3P"
    assert P.organization("91320583ma1t8k2q3p") == P.organization("91320583MA1T8K2Q3P")
    for bad in ("91320583MA1T8K2Q3", "91320583MA1T8K2QIO"):
        with pytest.raises(IdentifierError):
            P.organization(bad)


def test_pseudonyms_are_hmac_sha256_hex_under_the_key_in_their_own_domain() -> None:
    expected = hmac.new(KEY, b"puhui:v1:phone:13800138001", hashlib.sha256).hexdigest()
    assert P.phone("13800138001") == expected
    assert is_pseudonym(expected)
    assert P.user_id("SH", "13800138001") != P.phone("13800138001")
    assert P.user_id("SH", "u-1") != P.user_id("ZJ", "u-1")
    assert Pseudonymizer(b"another federation key, 32 bytes").phone("13800138001") != expected


def test_subject_dispatch_and_pass_through() -> None:
    pseudonym = P.phone("13800138001")
    assert P.subject("phone", "13800138001", platform="SH") == pseudonym
    assert P.subject("pseudonym", pseudonym, platform="SH") == pseudonym
    with pytest.raises(IdentifierError):
        P.subject("pseudonym", "13800138001", platform="SH")
    with pytest.raises(ValueError, match="unknown identifier kind"):
        P.subject("email", "a@example.org", platform="SH")


def test_short_keys_are_refused_and_the_key_is_not_shown() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymizer(b"short")
    assert "privacy test" not in repr(P)


def test_addresses_are_hashed_with_whitespace_collapsed() -> None:
    assert P.address("江苏省 昆山市  花桥镇") == P.address("江苏省 昆山市 花桥镇")
    with pytest.raises(IdentifierError):
        P.address("   ")
