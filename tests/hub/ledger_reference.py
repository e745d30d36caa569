"""The reference model of the ledger's model-based test (tests/hub/test_ledger_model.py): the
truth kept per serial (where it is, its status, what claims it), how drawn parts are described,
and what a refusal must look like."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from hub.client import HubProblem

NS = "JS"
ISSUED = [*range(100001, 100399), *range(90001, 90026)]
ELIGIBLE = "JS-B-2025-000001"  # the Kunshan PV block: the ruleset recognizes it in Shanghai
MOVABLE_FROM = 100001  # the 90001-90025 block is pledged at its origin: the sandbox never locks it
USABLE = ("held", "imported")


@dataclass
class Serial:
    registry: str = "JS"
    status: str = "held"
    claim: tuple[str, str] | None = None  # (kind, owner)


@dataclass
class Model:
    serials: dict[int, Serial] = field(default_factory=dict)
    recognitions: dict[str, str] = field(default_factory=dict)  # id -> status
    transfers: dict[str, str] = field(default_factory=dict)  # id -> state
    certificates: dict[str, list[int]] = field(default_factory=dict)  # RC-id -> serials

    def free(self, serials: list[int], sender: str) -> bool:
        return all(
            (s := self.serials[n]).registry == sender and s.status in USABLE and s.claim is None
            for n in serials
        )

    def claim(self, serials: list[int], kind: str, owner: str) -> None:
        for n in serials:
            self.serials[n].claim = (kind, owner)

    def release(self, kind: str, owner: str) -> list[int]:
        freed = [n for n, s in self.serials.items() if s.claim == (kind, owner)]
        for n in freed:
            self.serials[n].claim = None
        return freed


@dataclass(frozen=True)
class PartSpec:
    """How a drawn part is made from a real block: whole, inside, reversed, outside or unknown."""

    block: int
    shape: str
    a: int
    b: int


PARTS = st.lists(
    st.builds(
        PartSpec,
        block=st.integers(0, 30),
        shape=st.sampled_from(
            ["whole"] * 2 + ["inside"] * 6 + ["reversed", "outside", "unknown", "other-namespace"]
        ),
        a=st.integers(0, 40),  # near the start of blocks: operations collide often
        b=st.integers(0, 40),
    ),
    min_size=1,
    max_size=3,
)


def check_refusal(problem: HubProblem, expected: bool) -> None:
    """A refusal is a 4xx naming a check of the request or an illegal step (6002) — never a race's
    or a constraint's 6001;
    what the model holds free may be refused only by the rules (5xxx)."""
    assert 400 <= problem.status < 500, problem
    codes = {problem.code, *[e.get("code") for e in problem.errors]} - {None}
    named = any(str(code)[0] in "235" or code == "6002" for code in codes) or (
        problem.status == 404 and not codes
    )
    assert named, f"refused {codes}, not by a check of the request: {problem}"
    if expected:
        assert all(str(code)[0] == "5" for code in codes), f"valid request refused: {problem}"
