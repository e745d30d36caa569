"""docs/connect.md runs: its Python blocks, in order, against a freshly served demo hub, reach a
completed transfer, a clean reconciliation delivered to a verified webhook, and the refusals the
guide shows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.demo_hub import running_demo

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "connect.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text("utf-8"), flags=re.S)


def test_the_guide_has_its_steps() -> None:
    code = blocks()
    assert len(code) >= 8
    joined = "\n".join(code)
    for step in (
        "/oauth/token",
        "/batches",
        "/v1/recognitions",
        "/v1/transfers",
        "/webhook",
        "/v1/reconciliations",
    ):
        assert step in joined or "token_endpoint" in joined


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_guide_runs_against_a_served_demo_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_demo(tmp_path / "data") as demo:
        monkeypatch.setenv("PUHUI_HUB", demo.base)
        monkeypatch.setenv("PUHUI_DEMO_CREDENTIALS", str(demo.credentials))
        scope: dict[str, Any] = {"__name__": "connect_guide"}
        for number, code in enumerate(blocks(), start=1):
            try:
                exec(compile(code, f"{GUIDE.name} block {number}", "exec"), scope)
            except Exception as exc:  # name the block that failed
                raise AssertionError(f"block {number} of docs/connect.md failed: {exc!r}") from exc
    assert scope["pushed"].status_code == 201
    assert scope["recognition"]["status"] == "pending_review"
    assert scope["certificate"]["certificate"]["quantity"] == 40
    assert scope["transfer"]["state"] == "completed", scope["transfer"]
    assert scope["report"].json()["status"] == "completed"
    assert "reconciliation.completed" in [event["type"] for event in scope["received"]]
    refused = scope["refused"]
    assert refused.status_code == 422
    assert [(e["pointer"], e["code"]) for e in refused.json()["errors"]] == [("/blocks/0", "3001")]
    assert [answer.status_code for answer in scope["again"]] == [200, 200]  # a retry: the first answer
    assert scope["again"][1].headers["Idempotent-Replayed"] == "true"
    assert scope["again"][0].json() == scope["again"][1].json()
    assert (scope["replayed"].status_code, scope["replayed"].json()["code"]) == (409, "1017")
