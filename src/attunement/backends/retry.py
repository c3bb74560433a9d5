"""When to retry a failed model call, and how long to wait first.

Retries are bounded and spread out with *full jitter* (a uniform wait between 0 and an
exponentially growing ceiling), so that many clients hit by the same 429 do not come back in
lockstep. A server's ``Retry-After`` (seconds or an HTTP date, or ``retry-after-ms``) wins over
the computed wait, capped at ``max_retry_after`` so a bad header cannot stall a run for hours.

    >>> policy = RetryPolicy(max_retries=3, base_delay=0.5, max_delay=8.0)
    >>> 0.0 <= policy.delay(2, rng=random.Random(0)) <= 2.0
    True
    >>> policy.delay(0, retry_after=1.5)
    1.5
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# Status codes worth another try: rate limits, server trouble, and the timeouts gateways return.
RETRY_STATUS: frozenset[int] = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 522, 524})


def is_retryable_status(status: int) -> bool:
    """429 and 5xx (and the 408/409 some gateways use for transient trouble) are retried."""
    return status in RETRY_STATUS or 500 <= status < 600


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait according to ``retry-after-ms`` or ``Retry-After``; None if absent/bad.

    >>> parse_retry_after({"retry-after": "2"})
    2.0
    >>> parse_retry_after({"retry-after-ms": "250"})
    0.25
    >>> parse_retry_after({"retry-after": "soon"}) is None
    True
    """
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
            if value >= 0:
                return value
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        value = float(raw)
        return value if value >= 0 else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter.

    Attributes:
        max_retries: retries after the first attempt (so at most ``max_retries + 1`` calls).
        base_delay: ceiling of the first wait, seconds; doubles each retry.
        max_delay: the ceiling never grows past this.
        max_retry_after: longest server-requested wait we honour.
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def delay(
        self,
        retry_index: int,
        *,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float:
        """Seconds to sleep before retry number ``retry_index`` (0 for the first retry)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2**retry_index))
        return (rng or random).uniform(0.0, ceiling)
