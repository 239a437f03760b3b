"""The tables `make bench` prints: one per stack, then empty against preloaded."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

from scenario import StackResult
from steps import Step, pct

SERVICES = ("intake", "routing", "notifications", "guide")


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _pcts(values: list[float], qs: Iterable[float] = (50, 95, 99)) -> str:
    return "/".join(_ms(pct(values, q)) for q in qs)


def _cores() -> int:
    return 100 * (os.cpu_count() or 1)


def _cpu(values: dict[str, float], names: Iterable[str]) -> str:
    return "  ".join(f"{name} {values[name]:.1f}" for name in names if name in values)


STEP_HEAD = (
    f"{'step':<17}{'sent':>6}{'202':>6}{'routed':>7}{'late':>5}{'lost':>5}{'dup':>4}"
    f"{'redl':>5}  {'e2e p50/p95/p99 ms':>20}  {'intake':>6} {'routing':>7}  "
    f"{'receipts':>8} {'recs':>6} {'mails':>6}  {'loop p50/p99':>13} {'x p50':>6}  held"
)


def step_row(step: Step) -> str:
    loop = step.loop
    loop_p = _pcts(loop.e2e_ms, (50, 99)) if loop else "-"
    ratio = "-"
    if loop and loop.e2e_ms and step.e2e_ms:
        ratio = f"{pct(step.e2e_ms, 50) / pct(loop.e2e_ms, 50):,.1f}"
    return (
        f"{step.name:<17}{step.sent:>6}{step.accepted:>6}{step.routed:>7}{step.routed_late:>5}"
        f"{step.lost:>5}{step.duplicated:>4}{step.redelivered:>5}  {_pcts(step.e2e_ms):>20}  "
        f"{_ms(pct(step.intake_ms, 50)):>6} {_ms(pct(step.routing_ms, 50)):>7}  "
        f"{step.receipts:>8} {step.recommendations:>6} {step.mails:>6}  {loop_p:>13} {ratio:>6}  "
        f"{'yes' if step.held else 'no'}"
    )


def stack_table(r: StackResult) -> list[str]:
    title = f"== {r.label} stack: preload {r.preload:,}, prefix {r.prefix!r}"
    if r.problem:
        return [title, f"   {r.problem}"]
    lines = [title]
    if r.preload_s:
        took = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(r.preload_s.items()))
        lines.append(f"preload took: {took}")
    if r.settled:
        lines.append(f"then: {r.settled}")
    lines.append(f"services ready {r.start_s:.1f} s after start")
    if r.cpu_loop_ms:
        lines.append(
            f"machine: a fixed pure-Python loop took {r.cpu_loop_ms:.0f} ms of CPU"
            " (best of 5; lower is faster; bench/calibration.py)"
        )
    names = ("store", "kafka", *SERVICES)
    lines.append(f"idle CPU over {r.idle_seconds:g} s, % of one core: {_cpu(r.idle_cpu, names)}")
    lines += ["", STEP_HEAD]
    lines += [step_row(s) for s in r.measured()]
    for step in r.measured():
        if not step.held:
            lines.append(f"  {step.name} did not hold: {'; '.join(step.why_not_held)}")
        if step.failures:
            lines.append(f"  {step.name} requests without 202: {step.failures}")
    if r.not_run:
        lines.append("  not run (an earlier step did not hold): " + ", ".join(
            f"{rate:g}/s" for rate in r.not_run))  # fmt: skip
    held = r.highest_held
    lines.append(f"highest step rate that held: {f'{held:g}/s' if held else 'none'}")
    lines += [
        "",
        "CPU % of one core, from a step's first send to its drain's end (smtp sink and bench:",
        "the load's own side; other stack: the stack not measured, standing by; total: every",
        "part, of what the machine has)",
    ]
    load = (*names, "smtp sink", "bench", "other stack")
    lines += [
        f"  {s.name:<17}{_cpu(s.cpu, load)}  total {sum(s.cpu.values()):.0f} of {_cores()}"
        for s in r.measured()
    ]
    lines += [
        "",
        "store commands per inquiry accepted, from a step's first send to its drain's end",
        "(indgang_store_commands_total; guide's include the bench's own question per case)",
    ]
    lines += [f"  {s.name:<17}{_per_inquiry(s)}" for s in r.measured() if s.commands]
    first = next((s for s in r.steps if s.commands and s.accepted), None)
    if first is not None:
        lines += ["", f"the same at {first.name}, by command and collection:"]
        lines += _by_command(first)
    if r.memory:
        lines += ["", "memory at the end of the step-up, MB RSS (PSS):"]
        lines += [
            f"  {name:<14}{m['rss_mb']:>8.0f} ({m['pss_mb']:.0f})  {m['processes']:.0f} processes"
            for name, m in r.memory.items()
        ]
    if r.profile:
        lines += ["", *profile_lines(r.profile)]
    return lines


def _per_inquiry(step: Step) -> str:
    per = (
        {name: sum(by.values()) / step.accepted for name, by in step.commands.items()}
        if step.accepted
        else {}
    )
    parts = [f"{name} {per[name]:.1f}" for name in SERVICES if name in per]
    return "  ".join(parts) + f"  total {sum(per.values()):.1f}"


def _by_command(step: Step) -> list[str]:
    """Per service, what its store commands per inquiry were (at least 0.05 of one)."""
    lines = []
    for name in SERVICES:
        per = {kind: n / step.accepted for kind, n in step.commands.get(name, {}).items()}
        shown = [f"{kind} {n:.1f}" for kind, n in per.items() if n >= 0.05]
        if shown:
            lines.append(f"  {name:<15}" + ", ".join(shown))
    return lines


def profile_lines(profile: dict[str, object]) -> list[str]:
    if "error" in profile:
        return [f"profile of {profile['service']}: {profile['error']}"]
    lines = [
        f"profile of {profile['service']} during the profiled step "
        f"({profile['samples']} busy samples at {profile['rate_hz']} Hz; raw: {profile['raw']})"
    ]
    for kind in ("self_by_package", "self", "total"):
        lines.append(f"  top by {kind.replace('_', ' ')} %:")
        rows = profile[kind]
        assert isinstance(rows, list)
        lines += [f"  {row['percent']:6.1f}  {row['function']}" for row in rows[:12]]
    return lines


def comparison(empty: StackResult, preloaded: StackResult) -> list[str]:
    """The issue's 1.5x target: preloaded against empty at the rates both ran."""

    def at(r: StackResult, rate: float) -> Step | None:
        return next((s for s in r.steps if s.rate == rate), None)

    lines = [f"== preloaded ({preloaded.preload:,}) against empty",
             f"{'':26}{'empty':>12}{'preloaded':>12}{'ratio':>8}"]  # fmt: skip

    def row(label: str, a: float | None, b: float | None) -> None:
        if a is None or b is None or math.isnan(a) or math.isnan(b):
            lines.append(f"{label:26}{_num(a):>12}{_num(b):>12}{'-':>8}")
        else:
            lines.append(f"{label:26}{_num(a):>12}{_num(b):>12}{b / a if a else math.nan:>7.2f}x")

    row("machine: cpu loop ms", empty.cpu_loop_ms or None, preloaded.cpu_loop_ms or None)
    row("highest rate held /s", empty.highest_held, preloaded.highest_held)
    for step in empty.steps:
        other = at(preloaded, step.rate)
        if other is not None:
            for q in (50, 99):
                row(f"e2e p{q} ms at {step.name}", pct(step.e2e_ms, q), pct(other.e2e_ms, q))
    row("idle store CPU %", empty.idle_cpu.get("store"), preloaded.idle_cpu.get("store"))
    for name in SERVICES:
        row(f"idle {name} CPU %", empty.idle_cpu.get(name), preloaded.idle_cpu.get(name))
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.1f}"


LEGEND = """\
sent: requests started; 202: accepted by intake; routed: case-routed seen within the drain;
late: routed only in the final drain; lost: never routed; dup: inquiries with two different
case-routed events; redl: the same case-routed seen again (a redelivery, allowed);
e2e: 202 -> case-routed seen by an independent consumer; intake: 202 -> inquiry-received;
routing: inquiry-received -> case-routed (both p50, ms); receipts: receipts handed to SMTP
within the drain; recs: cases with recommendations stored in guide; mails: mails the SMTP
sink took; loop: the plain aiokafka loop at the same rate; x p50: system p50 / loop p50.
A step held when every request was accepted, every inquiry routed, its receipt sent and
its recommendations stored within the drain, nothing duplicated, and e2e p99 stayed
within --max-p99-ms (bench/README.md)."""
