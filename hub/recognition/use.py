"""Using, withdrawing and moving recognitions: what transfers and retirements ask of a
certificate they name, and the one way a recognition changes state."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from hub.claims.service import Reservations
from hub.log.transitions import apply_transition
from hub.problems import Conflict
from hub.recognition.models import Recognition
from hub.recognition.repository import RecognitionRepository
from mutual_recognition.claims import ClaimKind
from mutual_recognition.recognition_states import RECOGNITION, RecognitionState
from schemas.validation import Issue


def certificate_id(recognition: Recognition) -> str:
    return f"RC-{recognition.id}"


def move(
    session: Session,
    recognition: Recognition,
    target: RecognitionState,
    event: str,
    actor: str,
    data: dict[str, Any],
) -> None:
    """Move ``recognition`` to ``target`` through the state table, with its log entry."""
    applied = apply_transition(
        session,
        RECOGNITION,
        RecognitionState(recognition.status),
        target,
        event=event,
        subject=("recognition-request", recognition.id),
        actor=actor,
        platforms=[recognition.origin, recognition.destination],
        data=data,
    )
    recognition.status = str(applied.state)
    session.add(recognition)


class Certificates:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_use(self, certificate: str, pointer: str = "/certificate_id") -> Recognition | Issue:
        """The approved recognition whose certificate an operation names, or why it cannot be used
        (5013: no such certificate; 5015: used, withdrawn)."""
        found = (
            RecognitionRepository(self.session).get(certificate.removeprefix("RC-"))
            if certificate.startswith("RC-")
            else None
        )
        if found is None or found.certificate is None:
            return Issue(pointer, "5013", f"no certificate {certificate}")
        if found.status != RecognitionState.APPROVED:
            return Issue(pointer, "5015", f"certificate {certificate} is {found.status}, not usable")
        return found

    def use(self, recognition: Recognition, *, by: str, actor: str) -> None:
        """A transfer or retirement consumed the certificate: approved -> used, exactly once. The
        caller holds the serials' namespace locks; the row is read again under its own lock."""
        self.session.refresh(recognition, with_for_update=True)
        recognition.used_by = by
        move(
            self.session,
            recognition,
            RecognitionState.USED,
            "recognition.certificate_used",
            actor,
            {"used_by": by},
        )

    def withdraw(self, recognition: Recognition, *, actor: str, reason: str) -> Recognition:
        """The origin gives up an approved certificate it has not used: its serials are free again.
        Not while a transfer naming it holds them (it uses the certificate, or gives them back).

        Locks in the order every operation on serials takes them — the serials' namespaces, then
        the recognition's row — and decides on what it reads under them, so a withdrawal racing a
        transfer or retirement that uses the certificate is one or the other, never both."""
        reservations = Reservations(self.session)
        reservations.claims.lock(part["namespace"] for part in recognition.request["blocks"])
        locked = RecognitionRepository(self.session).get(recognition.id, for_update=True)
        assert locked is not None, "recognitions are never deleted"
        if locked.status == RecognitionState.APPROVED and not reservations.claims.of(
            ClaimKind.CERTIFICATE, certificate_id(locked)
        ):
            raise Conflict(
                f"certificate {certificate_id(locked)} is in use by a transfer that is not final",
                code="6002",
            )
        move(
            self.session,
            locked,
            RecognitionState.WITHDRAWN,
            "recognition.withdrawn",
            actor,
            {"reason": reason},
        )
        reservations.release(ClaimKind.CERTIFICATE, certificate_id(locked))
        return locked
