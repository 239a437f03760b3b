"""The prove's report: JSON (everything), a short Markdown summary, and a PNG of throughput
and consumer lag over time with the kill moments marked."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server or in CI

import matplotlib.pyplot as plt
from chaos import Moment
from checks import CASE_ROUTED, Check
from lag import Sample
from observe import Record


def summary(meta: dict[str, Any], checks: list[Check], moments: list[Moment]) -> str:
    held = sum(c.held for c in checks)
    brokers = f"{meta['brokers']} broker{'s' if meta['brokers'] > 1 else ''}"
    kills = Counter(m.target for m in moments if m.what == "kill")
    lines = [
        f"# make prove — {meta['started']} ({brokers})",
        "",
        f"{meta['sent']} inquiries at {meta['rate']}/s from {meta['organisations']} organisations, "
        f"{meta['referrals']} referrals answered on the way; commit `{meta['commit']}`; "
        f"load {meta['load_s']:.0f} s, drain {meta['drain_s']:.0f} s. "
        f"Faults (SIGKILL): {', '.join(f'{t} ×{n}' for t, n in kills.items())}; "
        f"{meta['poison']} poison records; SMTP refusing {meta['smtp_fail_rate']:.0%} of mails "
        f"for a while; webhook receiver failing {meta['webhook_fail_rate']:.0%}.",
        "",
        f"**{held} of {len(checks)} checks held.**",
        "",
        "| check | result | counts |",
        "|---|---|---|",
    ]
    for c in checks:
        counts = ", ".join(f"{k}: {v}" for k, v in c.counts.items())
        lines.append(f"| {c.name} | {'held' if c.held else '**fell short**'} | {counts} |")
    notes = [f"- {c.name}: {c.note}" for c in checks if c.note]
    examples = [f"- {c.name}: {', '.join(c.examples)}" for c in checks if not c.held and c.examples]
    if examples:
        lines += ["", "Examples of what fell short:", *examples]
    if notes:
        lines += ["", *notes]
    if meta.get("chaos_errors"):
        lines += [
            "",
            "Faults that could not be carried out:",
            *(f"- {e}" for e in meta["chaos_errors"]),
        ]
    exited = [m for m in moments if m.what == "exited"]
    if exited:
        lines += [
            "",
            "Services that exited by themselves (restarted): "
            + ", ".join(m.target for m in exited),
        ]
    return "\n".join(lines) + "\n"


def write_json(
    path: Path,
    meta: dict[str, Any],
    checks: list[Check],
    moments: list[Moment],
    samples: list[Sample],
) -> None:
    path.write_text(
        json.dumps(
            {
                "meta": meta,
                "held": all(c.held for c in checks),
                "checks": [asdict(c) for c in checks],
                "faults": [asdict(m) for m in moments],
                "lag": [asdict(s) for s in samples],
            },
            indent=2,
            default=str,
        )
    )


def plot(
    path: Path,
    t0: float,
    accepted_at: list[float],
    records: list[Record],
    samples: list[Sample],
    moments: list[Moment],
    title: str,
) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    per_s: Counter[int] = Counter(int(t - t0) for t in accepted_at)
    routed: Counter[int] = Counter(
        int(r.timestamp_ms / 1000 - t0) for r in records if r.topic == CASE_ROUTED
    )
    end = max([*per_s, *routed, 1])
    xs = list(range(end + 1))
    top.plot(xs, [per_s.get(x, 0) for x in xs], lw=0.8, label="inquiries answered 202 /s")
    top.plot(xs, [routed.get(x, 0) for x in xs], lw=0.8, label="case-routed published /s")
    top.set_ylabel("per second")
    top.legend(loc="upper right", fontsize=8)
    groups = sorted({g for s in samples for g in s.lag})
    for g in groups:
        bottom.plot(
            [s.t - t0 for s in samples],
            [s.lag.get(g, 0) for s in samples],
            lw=0.8,
            label=g.rsplit("indgang-", 1)[-1],
        )
    bottom.set_ylabel("consumer lag (records)")
    bottom.set_xlabel("seconds since the load started")
    bottom.legend(loc="upper right", fontsize=8)
    colours = {
        "intake": "tab:blue",
        "routing": "tab:orange",
        "notifications": "tab:green",
        "guide": "tab:purple",
        "store": "black",
    }
    for m in moments:
        if m.what != "kill":
            continue
        colour = colours.get(m.target, "tab:red")
        for ax in (top, bottom):
            ax.axvline(m.t - t0, color=colour, lw=0.8, ls="--", alpha=0.7)
        top.annotate(
            m.target,
            (m.t - t0, top.get_ylim()[1]),
            rotation=90,
            fontsize=7,
            va="top",
            ha="right",
            color=colour,
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
