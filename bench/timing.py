"""A tiny timing helper: median rate of a callable over several rounds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def rate(function: Callable[[], object], *, rounds: int = 7, min_seconds: float = 0.2) -> float:
    """Calls per second: the median of ``rounds`` rounds, each at least ``min_seconds`` long."""
    calls = 1
    while True:  # calibrate the number of calls per round
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds / 4:
            break
        calls *= 2
    per_round = max(1, int(calls * min_seconds / max(elapsed, 1e-9)))
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            function()
        samples.append(per_round / (time.perf_counter() - start))
    return statistics.median(samples)


def report(rows: list[tuple[str, float, str, float]]) -> None:
    """Print ``name  rate/s  vs raw-primitive  ratio``."""
    width = max(len(name) for name, *_ in rows)
    raw_width = max(len(raw) for _, _, raw, _ in rows)
    for name, ours, raw, theirs in rows:
        print(
            f"{name:<{width}}  {ours:>12,.0f}/s   raw {raw:<{raw_width}} {theirs:>12,.0f}/s"
            f"   ratio {ours / theirs:6.2f}"
        )
