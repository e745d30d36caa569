"""Keyed pseudonyms: no raw personal or organizational identifier leaves an adapter.

National ID numbers (居民身份证号码, GB 11643), mobile phone numbers, platform user ids and
unified social credit codes (统一社会信用代码, GB 32100) become lowercase-hex HMAC-SHA256 values
under the federation key. Each kind of identifier is hashed in its own domain (``puhui:v1:<kind>:``)
so that a phone number and a user id with the same digits never share a pseudonym. Values are
normalized first — spaces and dashes dropped, the ID check character ``x`` upper-cased, a ``+86`` /
``0086`` prefix removed from phones — so that the same person always gets the same pseudonym.

Errors never repeat the identifier: an :class:`IdentifierError` says what is wrong, not with what.
"""

from __future__ import annotations

import hashlib
import hmac
import re

ID_NUMBER = re.compile(r"^[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PHONE = re.compile(r"^1[3-9][0-9]{9}$")
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")
_SEPARATORS = re.compile(r"[\s\-\u00a0\u3000]")


class IdentifierError(ValueError):
    """An identifier that is not of its kind; the message never contains the identifier."""


def id_check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID number."""
    return ID_CHECK[sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def normalize_national_id(value: str) -> str:
    """Spaces dropped, ``x`` upper-cased; IdentifierError unless a valid 18-character number."""
    text = _SEPARATORS.sub("", value).upper()
    if not ID_NUMBER.match(text):
        raise IdentifierError("is not an 18-character resident ID number")
    if id_check_character(text[:17]) != text[17]:
        raise IdentifierError("fails the resident ID number check character (GB 11643)")
    return text


def normalize_phone(value: str) -> str:
    """Spaces and dashes dropped, ``+86`` / ``0086`` / ``86`` prefix removed; 11-digit mobile."""
    text = _SEPARATORS.sub("", value)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    else:
        if len(text) == 13 and text.startswith("86"):
            text = text[2:]
    if not PHONE.match(text):
        raise IdentifierError("is not an 11-digit mainland mobile number")
    return text


def normalize_uscc(value: str) -> str:
    """Spaces dropped, upper-cased; IdentifierError unless 18 characters of the GB 32100 alphabet."""
    text = _SEPARATORS.sub("", value).upper()
    if not USCC.match(text):
        raise IdentifierError("is not an 18-character unified social credit code")
    return text


def is_pseudonym(value: str) -> bool:
    """True for a value that already is a pseudonym (64 lowercase hex characters)."""
    return bool(PSEUDONYM.match(value))


class Pseudonymizer:
    """HMAC-SHA256 pseudonyms under the federation key.

    >>> p = Pseudonymizer(b"federation key of at least 16 bytes")
    >>> p.phone("+86 138 0013 8001") == p.phone("13800138001")
    True
    """

    def __init__(self, federation_key: bytes, *, key_id: str | None = None) -> None:
        if len(federation_key) < 16:
            raise ValueError("the federation key must be at least 16 bytes")
        self._key = bytes(federation_key)
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"Pseudonymizer(key_id={self.key_id!r})"

    def _digest(self, kind: str, value: str) -> str:
        message = f"puhui:v1:{kind}:{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def national_id(self, value: str) -> str:
        """Pseudonym of a resident ID number."""
        return self._digest("national-id", normalize_national_id(value))

    def phone(self, value: str) -> str:
        """Pseudonym of a mobile phone number."""
        return self._digest("phone", normalize_phone(value))

    def user_id(self, platform: str, value: str) -> str:
        """Pseudonym of a platform's own user id (namespaced by the platform code)."""
        text = value.strip()
        if not USER_ID.match(text):
            raise IdentifierError("is not a platform user id (letters, digits and . _ : @ - only)")
        return self._digest(f"user:{platform}", text)

    def organization(self, uscc: str) -> str:
        """Keyed hash of a unified social credit code (project owners, covered entities)."""
        return self._digest("uscc", normalize_uscc(uscc))

    def address(self, text: str) -> str:
        """Keyed hash of a street address (whitespace collapsed)."""
        collapsed = " ".join(text.split())
        if not collapsed:
            raise IdentifierError("is empty")
        return self._digest("address", collapsed)

    def subject(self, kind: str, value: str, *, platform: str) -> str:
        """Pseudonym of an identifier of ``kind`` (``national-id``, ``phone``, ``user-id``,
        ``pseudonym``); a value already pseudonymized (records from another region) passes through."""
        if kind == "national-id":
            return self.national_id(value)
        if kind == "phone":
            return self.phone(value)
        if kind == "user-id":
            return self.user_id(platform, value)
        if kind == "pseudonym":
            if not is_pseudonym(value):
                raise IdentifierError("is not a pseudonym (64 lowercase hexadecimal characters)")
            return value
        raise ValueError(f"unknown identifier kind {kind}")
