"""The one retry policy every outside service shares: attempts, waits capped, Retry-After and reset
headers honoured, jittered backoff, and an injectable clock and sleep for tests.

A client only classifies each answer: ok (with its value), retry after N seconds, retry with the
policy's backoff, or fail (by raising). The policy does the rest.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from teamops.errors import ServiceError

T = TypeVar("T")


@dataclass
class Verdict(Generic[T]):
    """How one attempt went."""

    ok: bool = False
    value: T | None = None
    wait: float | None = None  # retry after this many seconds (a rate limit); None: the policy's backoff
    reason: str = ""

    @classmethod
    def done(cls, value: T) -> Verdict[T]:
        return cls(ok=True, value=value)

    @classmethod
    def again(cls, reason: str, wait: float | None = None) -> Verdict[T]:
        return cls(ok=False, wait=wait, reason=reason)


class RetryPolicy:
    """Retries for one service: `attempts` tries for failures, waits up to `max_wait_s` each."""

    def __init__(
        self,
        service: str,
        *,
        attempts: int,
        max_wait_s: float,
        cap_s: float = 30.0,
        base_s: float = 1.0,
        wait_key: str = "",
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        error: type[ServiceError] = ServiceError,
    ) -> None:
        self.service = service
        self.error = error
        self.attempts = attempts
        self.max_wait_s = max_wait_s
        self.cap_s = cap_s
        self.base_s = base_s
        self.wait_key = wait_key or f"[{service.lower()}] max_wait_s"
        self.sleep = sleep
        self.now = now
        self.jitter = jitter
        self.waited_s = 0.0

    def backoff(self, attempt: int) -> float:
        """Exponential from `base_s`, capped, with up to half of it taken off at random (so retries spread)."""
        full = min(self.base_s * 2.0 ** (attempt - 1), self.cap_s)
        return full * (1 - 0.5 * self.jitter())

    def until(self, reset_epoch: float) -> float:
        """Seconds to wait for a rate-limit window that resets at an epoch time (one second of margin)."""
        return max(1.0, reset_epoch - self.now() + 1)

    def wait(self, seconds: float, what: str, why: str) -> None:
        """Wait, or stop with exit 4 when the wait would pass the cap (what was fetched stays stored)."""
        if seconds > self.max_wait_s:
            resume = time.strftime("%H:%M UTC", time.gmtime(self.now() + seconds))
            raise self.error(
                f"{self.service} {why}: {what} would have to wait {seconds / 60:.0f} min, "
                f"more than {self.wait_key} = {self.max_wait_s:g} s",
                f"everything fetched so far is stored; run again after {resume}",
            )
        self.waited_s += seconds
        self.sleep(seconds)

    def retry_or_fail(self, attempt: int, what: str, problem: str) -> None:
        """After a failed attempt: back off and try again, or stop with exit 4 once attempts are spent."""
        if attempt > self.attempts:
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            raise self.error(
                f"{self.service} failed {what}{tries}: {problem}",
                "everything fetched so far is stored; run again later",
            )
        self.wait(self.backoff(attempt), what, problem)

    def run(self, attempt: Callable[[int], Verdict[T]], what: str) -> T:
        """Call `attempt(n)` until it is ok: explicit waits (rate limits) are waited, failures backed off."""
        n = 0
        while True:
            n += 1
            verdict = attempt(n)
            if verdict.ok:
                return verdict.value  # type: ignore[return-value]
            if verdict.wait is not None:
                self.wait(verdict.wait, what, verdict.reason)
            else:
                self.retry_or_fail(n, what, verdict.reason)


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """A Retry-After header in seconds (the HTTP-date form is not used by these services)."""
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
