"""``puhui certificates verify``: check a recognition certificate offline — the hubs' signatures
(JWKS files), and with ``--proof`` and ``--policy`` that each hub's log holds it: the proof's entry
is included in a checkpoint signed by a policy log and cosigned by the policy's witness quorum
(c2sp.org/tlog-proof, c2sp.org/tlog-policy), and that entry names this certificate's digest.

A certificate signed by several hubs (each logging it) is checked by giving ``--jwks`` and
``--proof`` once per hub, and one policy that lists every hub's log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli.common import console, errors, fail, fetch_json, read_bytes
from hub.recognition.certificates import certificate_digest
from schemas.jwk import JWKError, JWKSet
from schemas.jws import JWSError, verify_record
from transparency.policy import Policy, PolicyError, parse_policy
from transparency.proof import ProofError, TlogProof, parse_proof, verify_proof

app = typer.Typer(help="Recognition certificates.", no_args_is_help=True)
CERTIFICATE_EVENT = "recognition.approved"


def _tokens(text: str) -> list[str]:
    """The certificate's JWS: the file is one compact JWS, or the hub's JSON answer with ``jws`` (a
    string, or a list of one compact JWS per signing hub) and, for a certificate countersigned by
    several hubs, ``signatures`` (each hub's ``jws``)."""
    if not text.startswith("{"):
        return [text]
    try:
        document = json.loads(text)
        found = document.get("jws")
        listed = document.get("signatures") or []
    except (ValueError, AttributeError):
        fail("the certificate file is neither a compact JWS nor JSON with a jws member")
    tokens = [found] if isinstance(found, str) else found
    if isinstance(tokens, list) and isinstance(listed, list):
        extra = [s.get("jws") for s in listed if isinstance(s, dict)]
        tokens = [*tokens, *(t for t in extra if t not in tokens)]
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
        fail("the certificate's jws member is a compact JWS or a list of them")
    return tokens


def entry_names_certificate(entry: bytes, certificate: dict[str, Any], digest: str) -> str | None:
    """None if the log entry records ``certificate`` (its event, subject and digest), else why not."""
    try:
        event = json.loads(entry)
    except (ValueError, RecursionError):
        return "the proof's entry is not JSON"
    if not isinstance(event, dict):
        return "the proof's entry is not a JSON object"
    if event.get("type") != CERTIFICATE_EVENT:
        return f"the proof's entry is a {event.get('type')} event, not {CERTIFICATE_EVENT}"
    subject, data = event.get("subject"), event.get("data")
    if not isinstance(subject, dict) or not isinstance(data, dict):
        return "the proof's entry has no subject or data object"
    if subject.get("id") != certificate.get("certificate_id"):
        return f"the proof's entry is about {subject.get('id')}, not {certificate.get('certificate_id')}"
    stated = data.get("certificate_digest")
    if stated != digest:
        return f"the proof's entry holds certificate_digest {stated}, not this certificate's {digest}"
    return None


def _policy(path: Path) -> Policy:
    try:
        return parse_policy(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, PolicyError) as exc:
        fail(f"--policy {path}: {exc}")


def _policy_for(proof: TlogProof, policies: list[Policy]) -> Policy:
    """The policy that lists the proof's log (by the checkpoint's origin); the first one if none
    does (its check then says the log is not trusted)."""
    origin = proof.checkpoint.text.split("\n", 1)[0]
    return next((p for p in policies if p.log_verifiers(origin)), policies[0])


@app.command("verify")
def verify(
    file: Annotated[str, typer.Argument(help="The certificate: its JWS, or the JSON the hub answers.")],
    jwks: Annotated[
        list[str], typer.Option(help="A signing hub's JWK Set: a file (or a URL); once per hub.")
    ],
    proof: Annotated[
        list[Path] | None,
        typer.Option(help="A .tlog-proof of the certificate's log entry (once per hub's log)."),
    ] = None,
    policy: Annotated[
        list[Path] | None,
        typer.Option(
            help="A tlog-policy trusted for --proof (a log's keys, its witnesses, their quorum); once per "
            "hub when each hub publishes its own (GET /log/policy): a proof verifies under the policy "
            "that lists its log."
        ),
    ] = None,
) -> None:
    """Verify each hub's signature over the canonical certificate; with --proof and --policy,
    verify with no network that every hub's log includes the entry naming its digest, in a
    checkpoint signed by a policy log and cosigned by the policy's quorum."""
    text = read_bytes(file).decode("utf-8", errors="replace").strip()
    tokens = _tokens(text)
    key_sets: list[tuple[str, JWKSet]] = []
    for source in jwks:
        try:
            key_sets.append((source, JWKSet.from_dict(fetch_json(source))))
        except (JWKError, AttributeError) as exc:
            fail(f"{source} is not a usable JWK Set: {exc}")
    # every signature in the file must verify with one of the given hubs' keys (a forged one next
    # to a good one fails the file), and every given hub must have signed
    certificates: list[dict[str, Any]] = []
    signed_by: set[str] = set()
    for token in tokens:
        verified, refusal = None, None
        for source, keys in key_sets:
            try:
                verified = verify_record(token, keys)
                signed_by.add(source)
                break
            except JWSError as exc:
                refusal = exc if refusal is None or exc.code != "1012" else refusal
        if verified is None:
            assert refusal is not None
            fail(f"[{refusal.code}] a signature of the certificate does not verify: {refusal.message}")
        payload = verified.json()
        if not isinstance(payload, dict):
            fail("a signed document is no recognition certificate (not a JSON object)")
        certificates.append(payload)
        console.print(
            f"valid certificate {payload.get('certificate_id')} signed by {verified.kid}",
            highlight=False,
            soft_wrap=True,
        )
    for source, _ in key_sets:
        if source not in signed_by:
            fail(f"[1012] no signature by a key of {source}")
    certificate = certificates[0]
    digest = certificate_digest(certificate)
    if any(certificate_digest(other) != digest for other in certificates[1:]):
        fail("the hubs signed different certificates (their digests differ)")
    c = certificate
    try:  # a signer may sign what is no certificate: say so, never a traceback
        ruleset = f"{c['ruleset']['ruleset_id']} v{c['ruleset']['version']}"
        moved = (
            f"{c['quantity']} t {c['origin_registry']} -> {c['converted_quantity']} t "
            f"{c['destination_registry']}"
        )
        approvers = ", ".join(str(name) for name in c["approved_by"])
        purpose = c["purpose"]
    except (KeyError, TypeError) as exc:
        fail(f"the signed document is no recognition certificate (it lacks {exc})")
    console.print(
        f"  {moved} for {purpose}; ruleset {ruleset}; approved by {approvers}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"  log entry {c.get('log_index')} holds certificate_digest {digest}", highlight=False)
    if not proof:
        return
    if not policy:
        fail("--proof needs the --policy that says which logs and witnesses to trust")
    policies = [_policy(path) for path in policy]
    failures = []
    proven: set[str] = set()
    for path in proof:
        try:
            parsed = parse_proof(read_bytes(str(path)))
            checked = verify_proof(parsed, None, _policy_for(parsed, policies))
        except ProofError as exc:
            failures.append(f"{path}: {exc}")
            continue
        assert parsed.extra is not None
        assert checked.checkpoint is not None
        assert checked.checkpoint.checkpoint is not None
        problem = entry_names_certificate(parsed.extra, certificate, digest)
        if problem:
            failures.append(f"{path}: {problem}")
            continue
        tree = checked.checkpoint.checkpoint
        if tree.origin in proven:  # one log's proof handed twice would pass for two logs
            failures.append(f"{path}: two proofs of the log {tree.origin} (one proof per hub's log)")
            continue
        proven.add(tree.origin)
        witnesses = ", ".join(sorted(checked.checkpoint.cosigned_by)) or "none"
        console.print(
            f"  included in {tree.origin} at index {parsed.index} of {tree.size} (witnesses: {witnesses})",
            highlight=False,
            soft_wrap=True,
        )
    for failure in failures:
        errors.print(f"FAIL {failure}", highlight=False, soft_wrap=True)
    if failures:
        fail(f"{len(failures)} proof(s) do not verify")
