"""Which public keys authenticate a client: its platform's (plus replaced keys during the grace
period) for platform clients, its own for operators and committee members."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from joserfc.jwk import KeySet, OKPKey

from hub.auth.models import OAuthClient

if TYPE_CHECKING:
    from hub.keystore import KeyStore
from hub.platforms.models import Platform
from schemas.jwk import JWKSet
from schemas.jws import SIGNING_ALGORITHM

# joserfc warns on every use of "EdDSA", which RFC 9864 deprecates in favour of "Ed25519". The
# federation accepts both names (stock clients still send EdDSA); the warning is noise here.
warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")

# what the hub signs with (RFC 9864), then what it accepts from clients during the transition
ACCEPTED_ALGORITHMS = [SIGNING_ALGORITHM, "EdDSA"]


def client_jwks(client: OAuthClient, platform: Platform | None, now: datetime) -> dict[str, Any]:
    """The JWK Set that authenticates ``client`` at ``now``."""
    if platform is None:
        return client.jwks or {"keys": []}
    return platform_keys(platform.jwks, platform.previous_jwks, platform.previous_jwks_until, now)


def platform_keys(
    jwks: dict[str, Any], previous: dict[str, Any] | None, until: datetime | None, now: datetime
) -> dict[str, Any]:
    """A platform's keys at ``now``: its current ones, plus the replaced ones until their grace
    period ends."""
    keys = list(jwks.get("keys", []))
    if previous and until is not None and _aware(until) > now:
        current = {key.get("kid") for key in keys}
        keys += [key for key in previous.get("keys", []) if key.get("kid") not in current]
    return {"keys": keys}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_keyset(jwks: dict[str, Any]) -> KeySet:
    """A joserfc key set (for authlib) of the Ed25519 keys in ``jwks``."""
    return KeySet.import_key_set(cast(Any, JWKSet.from_dict(jwks).as_dict()))


def hub_keyset(keystore: KeyStore) -> KeySet:
    """The hub's published keys as a joserfc key set, rebuilt only when the key store changes
    (a rotation or retirement by this process or another one sharing the directory)."""
    return keystore.derived("joserfc-keyset", _build_keyset)


def _build_keyset(keystore: KeyStore) -> KeySet:
    return KeySet.import_key_set(cast(Any, keystore.jwks()))


def signing_key(private_jwk: dict[str, str]) -> OKPKey:
    return OKPKey.import_key(cast(Any, private_jwk))
