"""When to try a failed delivery again: exponential backoff with jitter, up to a limit."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    max_seconds: float
    max_attempts: int

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1, 2, ...).

        Doubles each time, capped, then spread by ±50 % so that many deliveries
        that failed together (an SMTP outage) do not all come back at once.
        """
        raw = min(self.max_seconds, self.base_seconds * float(2 ** max(0, attempts - 1)))
        spread: float = (rng or random).uniform(0.5, 1.5)
        return raw * spread

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
