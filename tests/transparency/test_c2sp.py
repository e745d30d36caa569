"""The C2SP formats: signed notes, checkpoints, cosignatures, tiles, policies, proofs, witnesses —
round trips, and what a hostile or careless party could send."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from transparency.checkpoint import Checkpoint, CheckpointError
from transparency.merkle import (
    Node,
    appended_nodes,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    range_hash,
    root_from_leaves,
)
from transparency.note import (
    COSIGNATURE_V1,
    DASH,
    NoteError,
    Signer,
    open_note,
    parse_note,
    parse_signature_lines,
    parse_vkey,
    sign_note,
)
from transparency.policy import PolicyError, check_checkpoint, parse_policy
from transparency.proof import ProofError, check_proof, make_proof, parse_proof
from transparency.tiles import (
    Tile,
    TileError,
    TileHashes,
    encode_index,
    entry_bundle,
    pack_hashes,
    parse_entry_bundle,
    parse_tile_path,
    tiles_for_size,
)
from transparency.witness import AddCheckpoint, Latest, Verdict, WitnessError, judge, parse_add_checkpoint


def signer(name: str, kind: int = 0x01) -> Signer:
    return Signer(name, Ed25519PrivateKey.generate(), kind)


def stored_tree(entries: list[bytes]) -> dict[Node, bytes]:
    stored: dict[Node, bytes] = {}
    for index, entry in enumerate(entries):
        stored.update(dict(appended_nodes(index, leaf_hash(entry), stored)))
    return stored


def test_signed_note_round_trip_and_key_ids() -> None:
    log = signer("example.com/log")
    note = sign_note("hello\nworld\n", [log])
    rendered = note.render()
    assert rendered.startswith("hello\nworld\n\n" + DASH + " example.com/log ")
    opened = open_note(rendered, [log.verifier])
    assert opened.names() == {"example.com/log"}
    vkey = log.verifier.vkey
    assert parse_vkey(vkey) == log.verifier
    name, hex_id, _ = vkey.split("+", 2)
    assert (name, len(hex_id)) == ("example.com/log", 8)


@dataclass(frozen=True)
class BadNote:
    name: str
    data: str


BAD_NOTES = [
    BadNote("no blank line", "text\n" + DASH + " a AAAA\n"),
    BadNote("no signature", "text\n\n"),
    BadNote("control character", "te\x01xt\n\n" + DASH + " a AAAAAAA=\n"),
    BadNote("not base64", "text\n\n" + DASH + " a !!!!\n"),
    BadNote("short signature", "text\n\n" + DASH + " a AAAA\n"),
    BadNote("hyphen, not em dash", "text\n\n- a AAAAAAA=\n"),
    BadNote("no final newline", "text\n\n" + DASH + " a AAAAAAA="),
]


@pytest.mark.parametrize("case", BAD_NOTES, ids=lambda case: case.name)
def test_malformed_notes_are_refused(case: BadNote) -> None:
    with pytest.raises(NoteError):
        parse_note(case.data)


def test_unknown_keys_are_ignored_known_bad_signature_rejects() -> None:
    log, other = signer("example.com/log"), signer("example.com/log")  # same name, another key
    note = sign_note("a\n", [log, other])
    assert len(open_note(note, [log.verifier]).unknown) == 1
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(sign_note("a\n", [other]), [log.verifier])
    forged = parse_note(note.render().replace("a\n\n", "b\n\n", 1))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, [log.verifier])


def test_cosignature_binds_time_and_text() -> None:
    witness = signer("witness.example/w1", COSIGNATURE_V1)
    text = Checkpoint("example.com/log", 5, b"\x07" * 32).text()
    sig = witness.sign(text, timestamp=1679315147)
    assert witness.verifier.verify(text, sig)
    assert witness.verifier.timestamp(sig) == 1679315147
    tampered = type(sig)(sig.name, sig.key_id, (1679315148).to_bytes(8, "big") + sig.signature[8:])
    assert not witness.verifier.verify(text, tampered)
    assert not witness.verifier.verify(text.replace("5", "6", 1), sig)
    # the plain-note key of the same name and key does not accept a cosignature, nor the reverse
    plain = Signer(witness.name, witness.private)
    assert not plain.verifier.matches(sig)
    with pytest.raises(NoteError):
        witness.sign(text)  # no timestamp


def test_checkpoint_text_and_refusals() -> None:
    checkpoint = Checkpoint("example.com/log", 20852163, b"\x01" * 32, ("ext line",))
    assert Checkpoint.parse(checkpoint.text()) == checkpoint
    for text in (
        "o\n012\n" + base64.b64encode(b"\0" * 32).decode() + "\n",
        "o\n1\n",
        "o\n-1\nAAAA\n",
        "o\n1\nAAAA\n",
    ):
        with pytest.raises(NoteError):
            Checkpoint.parse(text)
    with pytest.raises(CheckpointError):
        Checkpoint("", 1, b"\0" * 32)


@pytest.mark.parametrize(
    ("index", "path"), [(0, "000"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")]
)
def test_tile_index_encoding(index: int, path: str) -> None:
    assert encode_index(index) == path
    assert parse_tile_path(f"tile/0/{path}") == Tile(0, index)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/64/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/x000/001",
        "tile/0/x1/000",
        "tile/entries/000.p/07",
        "tile/00/000",
        "tile/0/../000",
        "tile/0/000/",
    ],
)
def test_bad_tile_paths(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


def test_tiles_of_a_tree_of_70000_match_the_spec_example() -> None:
    tiles = list(tiles_for_size(70000))
    assert sum(1 for t in tiles if t.level == 0 and t.full) == 273
    assert Tile(0, 273, 112) in tiles and Tile(1, 0) in tiles and Tile(1, 1, 17) in tiles
    assert Tile(2, 0, 1) in tiles and len(tiles) == 273 + 1 + 2 + 1
    assert list(tiles_for_size(256)) == [Tile(0, 0), Tile(1, 0, 1)]


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 1200), data=st.data())
def test_proofs_from_tiles_equal_proofs_from_stored_nodes(size: int, data: st.DataObject) -> None:
    entries = [i.to_bytes(4, "big") for i in range(size)]
    stored = stored_tree(entries)
    served = {
        tile.path(): pack_hashes([stored[node] for node in tile.nodes()]) for tile in tiles_for_size(size)
    }
    hashes = TileHashes(served.__getitem__, size)
    assert range_hash(0, size, hashes) == root_from_leaves([leaf_hash(e) for e in entries])
    index = data.draw(st.integers(0, size - 1))
    assert [range_hash(a, b, hashes) for a, b in inclusion_ranges(index, size)] == [
        range_hash(a, b, stored) for a, b in inclusion_ranges(index, size)
    ]
    first = data.draw(st.integers(1, size))
    assert [range_hash(a, b, hashes) for a, b in consistency_ranges(first, size)] == [
        range_hash(a, b, stored) for a, b in consistency_ranges(first, size)
    ]


def test_entry_bundles_round_trip_and_refuse_truncation() -> None:
    entries = [b"", b"a", b"x" * 300]
    bundle = entry_bundle(entries)
    assert parse_entry_bundle(bundle) == entries
    for cut in (1, 3, len(bundle) - 1):
        with pytest.raises(TileError):
            parse_entry_bundle(bundle[:cut])
    with pytest.raises(TileError):
        entry_bundle([b"x" * 70000])


def policy_text(log: Signer, witnesses: list[Signer], quorum: str) -> str:
    lines = [f"log {log.verifier.vkey} https://example.com/log"]
    lines += [f"witness w{i} {w.verifier.vkey}" for i, w in enumerate(witnesses)]
    return "\n".join([*lines, "# comment", "", quorum]) + "\n"


def test_policy_quorum_k_of_n() -> None:
    log = signer("example.com/log")
    ws = [signer(f"w{i}.example", COSIGNATURE_V1) for i in range(3)]
    policy = parse_policy(policy_text(log, ws, "group g 2 w0 w1 w2\nquorum g"))
    text = Checkpoint("example.com/log", 3, b"\x02" * 32).text()
    note = sign_note(text, [log])
    assert not check_checkpoint(note, policy).ok
    once = note.with_signatures([ws[0].sign(text, timestamp=1)])
    assert not check_checkpoint(once, policy).ok
    twice = once.with_signatures([ws[2].sign(text, timestamp=2)])
    result = check_checkpoint(twice.render(), policy)
    assert result.ok and result.cosigned_by == {"w0", "w2"}
    assert not check_checkpoint(twice, policy, origin="other.example/log").ok
    stranger = sign_note(text, [signer("example.com/log")])
    assert not check_checkpoint(stranger.with_signatures(twice.signatures[1:]), policy).ok


@pytest.mark.parametrize(
    "tail",
    [
        "",
        "quorum nobody",
        "quorum none\nquorum none",
        "group g 3 w0 w1\nquorum g",
        "group g 0 w0\nquorum g",
        "group g any w0 w0\nquorum g",
        "group none any w0\nquorum none",
        "witness w0 bad\nquorum none",
        "frobnicate\nquorum none",
    ],
)
def test_bad_policies_are_refused(tail: str) -> None:
    log, w0, w1 = (
        signer("l.example"),
        signer("w0.example", COSIGNATURE_V1),
        signer("w1.example", COSIGNATURE_V1),
    )
    text = f"log {log.verifier.vkey}\nwitness w0 {w0.verifier.vkey}\nwitness w1 {w1.verifier.vkey}\n{tail}\n"
    with pytest.raises(PolicyError):
        parse_policy(text)


def test_policy_refuses_a_log_key_given_as_witness_and_duplicates() -> None:
    log = signer("l.example")
    with pytest.raises(PolicyError):
        parse_policy(f"log {log.verifier.vkey}\nwitness w {log.verifier.vkey}\nquorum w\n")
    with pytest.raises(PolicyError):
        parse_policy(f"log {log.verifier.vkey}\nlog {log.verifier.vkey}\nquorum none\n")


def test_tlog_proof_round_trip_and_verification() -> None:
    log, w = signer("example.com/log"), signer("w.example", COSIGNATURE_V1)
    entries = [f"entry {i}".encode() for i in range(13)]
    stored = stored_tree(entries)
    text = Checkpoint("example.com/log", 13, range_hash(0, 13, stored)).text()
    note = sign_note(text, [log]).with_signatures([w.sign(text, timestamp=7)])
    policy = parse_policy(f"log {log.verifier.vkey}\nwitness w {w.verifier.vkey}\nquorum w\n")
    path = [range_hash(a, b, stored) for a, b in inclusion_ranges(5, 13)]
    proof = make_proof(5, path, note, extra=entries[5])
    parsed = parse_proof(proof.render())
    assert parsed == proof
    assert check_proof(parsed, None, policy).ok
    assert not check_proof(parsed, entries[6], policy).ok
    assert not check_proof(make_proof(6, path, note, extra=entries[5]), None, policy).ok
    assert not check_proof(
        proof,
        None,
        parse_policy(f"log {log.verifier.vkey}\nquorum none\n").__class__(
            logs=(), witnesses={}, groups={}, quorum="none"
        ),
    ).ok
    for broken in (proof.render().replace("index 5", "index 05"), "nonsense", proof.render()[:-5]):
        with pytest.raises((ProofError, NoteError)):
            parse_proof(broken)


def witness_request(old: int, proof: list[bytes], note_text: str, log: Signer) -> bytes:
    return AddCheckpoint(old, tuple(proof), sign_note(note_text, [log])).render().encode()


def test_witness_judgement_table() -> None:
    log = signer("example.com/log")
    logs = {"example.com/log": [log.verifier]}
    entries = [bytes([i]) for i in range(20)]
    stored = stored_tree(entries)

    def cp(size: int, root: bytes | None = None) -> str:
        return Checkpoint("example.com/log", size, root or range_hash(0, size, stored)).text()

    proof_8_20 = [range_hash(a, b, stored) for a, b in consistency_ranges(8, 20)]
    latest = Latest(8, range_hash(0, 8, stored))
    forked = stored_tree([b"evil", *entries[1:]])
    rows = [
        ("first", witness_request(0, [], cp(8), log), None, Verdict.COSIGN),
        ("consistent", witness_request(8, proof_8_20, cp(20), log), latest, Verdict.COSIGN),
        ("stale old size", witness_request(5, proof_8_20, cp(20), log), latest, Verdict.STALE),
        ("old above size", witness_request(30, [], cp(20), log), latest, Verdict.MALFORMED),
        (
            "unknown origin",
            AddCheckpoint(0, (), sign_note(Checkpoint("x.example", 1, b"\0" * 32).text(), [log]))
            .render()
            .encode(),
            None,
            Verdict.UNKNOWN_ORIGIN,
        ),
        (
            "foreign key",
            witness_request(0, [], cp(8), signer("example.com/log")),
            None,
            Verdict.BAD_SIGNATURE,
        ),
        (
            "same size other root",
            witness_request(8, [], cp(8, range_hash(0, 8, forked)), log),
            latest,
            Verdict.FORK_SAME_SIZE,
        ),
        (
            "fork",
            witness_request(
                8,
                [range_hash(a, b, forked) for a, b in consistency_ranges(8, 20)],
                cp(20, range_hash(0, 20, forked)),
                log,
            ),
            latest,
            Verdict.BAD_PROOF,
        ),
        ("proof from zero", witness_request(0, proof_8_20[:1], cp(8), log), None, Verdict.BAD_PROOF),
    ]
    for name, body, known, expected in rows:
        assert judge(parse_add_checkpoint(body), logs, known).verdict is expected, name
    assert judge(parse_add_checkpoint(rows[2][1]), logs, latest).known_size == 8


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 1\n",
        b"old 01\n\nx\n",
        b"new 1\n\n",
        b"old 1\nnotbase64!\n\nx\n\n" + DASH.encode() + b" a AAAAAAA=\n",
        b"\xff\xfe",
    ],
)
def test_malformed_witness_requests_are_400(body: bytes) -> None:
    with pytest.raises(WitnessError):
        parse_add_checkpoint(body)


def test_witness_answer_lines_parse() -> None:
    w = signer("w.example", COSIGNATURE_V1)
    sig = w.sign("a\n", timestamp=3)
    assert parse_signature_lines(sig.line() + sig.line()) == [sig, sig]
    with pytest.raises(NoteError):
        parse_signature_lines(sig.line().rstrip("\n"))
