"""How fast this machine is at the moment: a fixed piece of pure-Python work, timed.

Whole-system latency here has varied by several times between runs an hour apart, with
the same code and every process (Kafka's too) needing more CPU for the same step. A
number taken with each stack lets two runs be compared as machines, not only as code.
"""

from __future__ import annotations

import time

WORK = 3_000_000  # about 0.1 s on this machine when it is fast


def cpu_loop_ms(repeats: int = 5) -> float:
    """The best of `repeats` timings of the same loop, in ms of CPU time: the best, since
    anything else running can only make a round slower."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        total = 0
        for i in range(WORK):
            total += i * i % 7
        best = min(best, (time.process_time() - started) * 1000)
    return best
