"""The in-memory replay store at 10k, 100k and 1M live entries: memory per entry, time per claim."""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import Any

from sso_middleware.replay import MemoryReplayStore


def measure(sizes: tuple[int, ...], claims: int = 10_000) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        gc.collect()
        tracemalloc.start()
        store = MemoryReplayStore(max_entries=size + claims + 1)
        before = tracemalloc.get_traced_memory()[0]
        far = time.time() + 10**6
        for i in range(size):
            store.claim(f"frill\x1fissuer\x1fjti-{i:022d}", far, 0.0)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        keys = [f"frill\x1fissuer\x1fnew-{i:022d}" for i in range(claims)]
        start = time.perf_counter()
        for key in keys:
            store.claim(key, far, 1.0)
        per_claim = (time.perf_counter() - start) / claims
        rows.append({
            "entries": size,
            "bytes_per_entry": round((after - before) / size, 1),
            "claim_us": round(per_claim * 1e6, 3),
        })
        del store
    return rows
