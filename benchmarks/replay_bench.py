"""The in-memory replay store at 10k, 100k and 1M live entries: memory per entry, time per claim,
against a floor measured in the same run (a dict under a lock: set-if-absent, nothing else)."""

from __future__ import annotations

import gc
import threading
import time
import tracemalloc
from typing import Any

from sso_middleware.replay import MemoryReplayStore


class FloorStore:
    """The least a thread-safe one-time store can do: no expiry, no bound, no eviction."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, expires_at: float, now: float) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = expires_at
            return True


def _fill(store: Any, size: int, far: float) -> None:
    for i in range(size):
        store.claim(f"frill\x1fissuer\x1fjti-{i:022d}", far, 0.0)


def _per_claim(store: Any, keys: list[str], far: float) -> float:
    start = time.perf_counter()
    for key in keys:
        store.claim(key, far, 1.0)
    return (time.perf_counter() - start) / len(keys)


def measure(sizes: tuple[int, ...], claims: int = 10_000, rounds: int = 3) -> list[dict[str, Any]]:
    rows = []
    far = time.time() + 10**6
    for size in sizes:
        gc.collect()
        tracemalloc.start()
        store = MemoryReplayStore(max_entries=size + rounds * claims + 1)
        before = tracemalloc.get_traced_memory()[0]
        _fill(store, size, far)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        floor = FloorStore()
        _fill(floor, size, far)
        ours, floors = [], []
        for r in range(rounds):  # interleaved, fresh keys each round
            keys = [f"frill\x1fissuer\x1fnew-{r}-{i:020d}" for i in range(claims)]
            ours.append(_per_claim(store, keys, far))
            floors.append(_per_claim(floor, keys, far))
        ours.sort()
        floors.sort()
        rows.append({
            "entries": size,
            "bytes_per_entry": round((after - before) / size, 1),
            "claim_us": round(ours[rounds // 2] * 1e6, 3),
            "claim_spread_us": f"{ours[0] * 1e6:.2f}-{ours[-1] * 1e6:.2f}",
            "floor_us": round(floors[rounds // 2] * 1e6, 3),
        })
        del store, floor
    return rows
