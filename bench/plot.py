"""The latency plot: e2e p50/p95/p99 against rate, empty against preloaded (PNG, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server or in CI

import matplotlib.pyplot as plt
from scenario import StackResult
from steps import pct

STYLE = {"empty": "-", "preloaded": "--"}
COLOUR = {50: "tab:blue", 95: "tab:orange", 99: "tab:red"}


def latency_plot(results: list[StackResult], path: Path, title: str) -> bool:
    """Write the plot; False when no stack has a step to show."""
    ran = [r for r in results if r.steps]
    if not ran:
        return False
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for result in ran:
        rates = [s.rate for s in result.steps]
        for q, colour in COLOUR.items():
            values = [pct(s.e2e_ms, q) for s in result.steps]
            ax.plot(rates, values, STYLE.get(result.label, ":"), color=colour,
                    label=f"{result.label} p{q}")  # fmt: skip
            # Steps that did not hold: an open marker, so a number is not mistaken for capacity.
            for step, value in zip(result.steps, values, strict=True):
                face = colour if step.held else "white"
                ax.plot([step.rate], [value], "o", color=colour, markerfacecolor=face)
        loops = [(s.rate, pct(s.loop.e2e_ms, 99)) for s in result.steps if s.loop]
        if loops and result is ran[0]:
            ax.plot(*zip(*loops, strict=True), ":", color="grey", label="plain loop p99")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sorted({s.rate for r in ran for s in r.steps}))
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("inquiries per second (open loop)")
    ax.set_ylabel("e2e latency, 202 → case-routed (ms)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2, title="filled: step held, open: did not", title_fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
