"""Token buckets for rate limits, per connection and per client IP."""

from __future__ import annotations

import time


class TokenBucket:
    """Allows a burst of ``capacity``, refilled at ``capacity`` per ``window_s``."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: int, window_s: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / window_s
        self.tokens = float(capacity)
        self.stamp = time.monotonic()

    def take(self) -> float:
        """Take one token; returns 0 if allowed, else seconds until one is free."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class KeyedBuckets:
    """One bucket per key (an IP address), forgotten once full again."""

    def __init__(self, capacity: int, window_s: float) -> None:
        self.capacity = capacity
        self.window_s = window_s
        self._buckets: dict[str, TokenBucket] = {}
        self._last_sweep = time.monotonic()

    def take(self, key: str) -> float:
        now = time.monotonic()
        if now - self._last_sweep > self.window_s:
            self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.capacity, self.window_s)
        return bucket.take()

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.stamp < self.window_s}
