"""The hub's names and keys among hubs: the log's origin (c2sp.org/tlog-checkpoint), the note key
that signs its checkpoints (type 0x01, named after the origin) and the cosigner key it witnesses
other logs with (type 0x04, named ``<origin>/witness``… see ``witness_name``).

Both are made from the keystore's published Ed25519 keys, so a rotation keeps old signatures
verifiable: checkpoints and cosignatures carry one signature per published key (a note may carry
several; verifiers ignore the keys they do not know), and peers that registered an older key
keep verifying until it is retired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.keystore import KeyStore
from hub.settings import Settings
from transparency.note import COSIGNATURE_V1, ED25519, Signer, Verifier


def witness_name(origin: str) -> str:
    """``yrd.example/log`` -> ``yrd.example/witness``; another origin gets ``/witness`` appended."""
    base = origin.removesuffix("/log")
    return f"{base}/witness"


def log_signers(settings: Settings, keystore: KeyStore) -> list[Signer]:
    keystore.active()  # creates the first key when there is none
    return [Signer(settings.log_origin, key.private, ED25519) for key in keystore.published() if key.private]


def witness_signers(settings: Settings, keystore: KeyStore) -> list[Signer]:
    keystore.active()
    name = witness_name(settings.log_origin)
    return [Signer(name, key.private, COSIGNATURE_V1) for key in keystore.published() if key.private]


def log_verifiers(settings: Settings, keystore: KeyStore) -> list[Verifier]:
    return [signer.verifier for signer in log_signers(settings, keystore)]


def witness_verifiers(settings: Settings, keystore: KeyStore) -> list[Verifier]:
    return [signer.verifier for signer in witness_signers(settings, keystore)]


# the identity another hub registers (hub.peering; GET /v1/hub)


@dataclass(frozen=True)
class Identity:
    """What another hub's administrator registers about this one (``GET /v1/hub``)."""

    origin: str
    base_url: str
    jwks: dict[str, list[dict[str, str]]]
    log_vkeys: list[str]
    witness_vkeys: list[str]
    registries: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "base_url": self.base_url,
            "jwks": self.jwks,
            "log_vkeys": self.log_vkeys,
            "witness_vkeys": self.witness_vkeys,
            "registries": self.registries,
        }


def identity(settings: Settings, keystore: KeyStore, registries: Sequence[str]) -> Identity:
    """This hub as its peers register it: origin, base URL, JWKS (its JWS keys), log and witness
    vkeys (one per published key, c2sp.org/signed-note) and ``registries``, the codes it serves."""
    return Identity(
        origin=settings.log_origin,
        base_url=settings.resolved_public_url,
        jwks=keystore.jwks(),
        log_vkeys=[verifier.vkey for verifier in log_verifiers(settings, keystore)],
        witness_vkeys=[verifier.vkey for verifier in witness_verifiers(settings, keystore)],
        registries=sorted(registries),
    )
