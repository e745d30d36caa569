"""The hub's own trust policy (c2sp.org/tlog-policy): its log keys, and the witnesses it asks to
cosign its checkpoints with their quorum.

Witnesses are another part's: ``WitnessPolicy`` is the seam. It answers the ``witness`` and
``group`` lines and the quorum name; the default, ``no_witnesses``, has none and quorum ``none``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from hub.identity import log_verifiers
from hub.keystore import KeyStore
from hub.settings import Settings
from transparency.policy import NONE, Policy, parse_policy


@dataclass(frozen=True, slots=True)
class WitnessLines:
    """tlog-policy ``witness``/``group`` lines and the quorum they make (``none``: no witness)."""

    lines: tuple[str, ...] = ()
    quorum: str = NONE


WitnessPolicy = Callable[[Session, Settings], WitnessLines]


def no_witnesses(session: Session, settings: Settings) -> WitnessLines:
    return WitnessLines()


def policy_text(settings: Settings, keystore: KeyStore, witnesses: WitnessLines) -> str:
    """The policy, one ``log`` line per published key (the log's URL prefix after it)."""
    prefix = f"{settings.resolved_public_url}/log"
    lines = [f"log {verifier.vkey} {prefix}" for verifier in log_verifiers(settings, keystore)]
    text = "\n".join([*lines, *witnesses.lines, f"quorum {witnesses.quorum}"]) + "\n"
    parse_policy(text)  # what the hub publishes parses (a bad witness line fails here, not offline)
    return text


def hub_policy(settings: Settings, keystore: KeyStore, witnesses: WitnessLines) -> Policy:
    return parse_policy(policy_text(settings, keystore, witnesses))
