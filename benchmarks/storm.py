"""A 1M-token storm on the in-memory replay store: memory once full, refusals while full, and the
recovery after a mass expiry, claim by claim.

    python -m benchmarks.storm [--entries 1000000] [--smoke]

1. Fill: ``entries`` one-time ids that all expire in the same second, the worst case for eviction.
   Memory (tracemalloc) is read at each quarter: it must grow linearly, then stop.
2. Full: more logins before that second ends. Each must be refused (``ReplayStoreFull``, a 503 at
   the verifier) and memory must stay flat: a full store never accepts a replay, never grows.
3. Recovery: the same number of new logins once everything has expired. Each claim is timed alone:
   no claim may pay for the mass eviction (p99 and the worst claim against the median), and the
   store's memory returns to its full level, no higher.
4. The same storm through a WSGI verifier (``max_entries`` a tenth of it), answer codes counted.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

from sso_middleware.errors import ReplayStoreFull
from sso_middleware.replay import MemoryReplayStore

HERE = Path(__file__).resolve().parent

T0 = 1_800_000_000.0


def _key(prefix: str, i: int) -> str:
    return f"frill\x1fapp\x1f{prefix}-{i:022d}"


def _storm(store: MemoryReplayStore, entries: int, late: int, sample: Any, timed: bool) -> dict[str, Any]:
    """Fill, refuse while full, recover; ``sample(phase)`` is called at each milestone."""
    expires = T0 + 300.0  # every id expires in the same second
    for i in range(entries):
        store.claim(_key("fill", i), expires, T0 + i * 1e-6)
        if (i + 1) % (entries // 4) == 0:
            sample(f"filled {i + 1}")
    refused = 0
    for i in range(late):  # still within the lifetime: every new login is refused
        try:
            store.claim(_key("late", i), T0 + 600.0, T0 + 100.0)
        except ReplayStoreFull:
            refused += 1
    sample("while full")
    after = T0 + 301.0  # everything expired a second ago
    clock = time.perf_counter_ns
    times = []
    for i in range(entries):
        start = clock()
        accepted = store.claim(_key("new", i), after + 300.0, after + i * 1e-6)
        if timed:  # (not while memory is traced: the list would be counted as the store's)
            times.append(clock() - start)
        if not accepted:
            raise RuntimeError("a fresh id was refused")
    sample("recovered")
    return {"refused": refused, "times": times}


def store_storm(entries: int, late: int) -> dict[str, Any]:
    # memory: the storm under tracemalloc (which slows every allocation: its times are not kept)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    memory: dict[str, int] = {}
    store = MemoryReplayStore(max_entries=entries)
    _storm(store, entries, late,
           lambda phase: memory.setdefault(phase, tracemalloc.get_traced_memory()[0] - base), False)
    cycles = []  # the steady state: more storms, each a full store expiring at once
    for cycle in range(2):
        at = T0 + 602.0 + 301.0 * cycle
        for i in range(entries):
            store.claim(_key(f"cycle{cycle}", i), at + 300.0, at + i * 1e-6)
        cycles.append(round((tracemalloc.get_traced_memory()[0] - base) / 2**20, 1))
    tracemalloc.stop()
    del store
    # time: the same storm untraced, each recovery claim timed alone
    gc.collect()
    timed = _storm(MemoryReplayStore(max_entries=entries), entries, late, lambda phase: None, True)
    times = sorted(timed["times"])
    full = memory[f"filled {entries // 4 * 4}"]
    return {
        "entries": entries,
        "bytes_per_entry_at_each_quarter": [
            round(v / int(k.split()[1]), 1) for k, v in memory.items() if k.startswith("filled")],
        "memory_full_mb": round(full / 2**20, 1),
        "late_logins": late,
        "refused_while_full": timed["refused"],
        "refusal_rate": round(timed["refused"] / late, 4),
        "memory_growth_while_full_bytes": memory["while full"] - full,
        "memory_after_recovery_mb": round(memory["recovered"] / 2**20, 1),
        "memory_after_two_more_storms_mb": cycles,
        "recovery_claim_p50_us": round(times[len(times) // 2] / 1000, 3),
        "recovery_claim_p99_us": round(times[int(len(times) * 0.99)] / 1000, 3),
        "recovery_claim_max_us": round(times[-1] / 1000, 1),
        "recovery_claim_mean_us": round(statistics.fmean(times) / 1000, 3),
        "recovery_claims_over_100us": sum(1 for t in times if t > 100_000),
    }


def verifier_storm(entries: int) -> dict[str, Any]:
    """The same storm through a WSGI verifier: tokens in, answer codes counted."""
    from werkzeug.test import Client

    from sso_middleware.keys import Key
    from sso_middleware.tokens import sign
    from sso_middleware.wsgi import VerifierMiddleware

    key = "storm-key-0123456789-abcdefghijklmnopqrstu"
    now = [T0]
    app = VerifierMiddleware(lambda e, s: [], key=key, clock=lambda: now[0],
                             replay_store=MemoryReplayStore(max_entries=entries))
    signing = Key(key)

    def present(jti: str, iat: float) -> int:
        token = sign({"sub": "ada", "iat": int(iat), "exp": int(iat) + 300, "jti": jti}, signing)
        return Client(app).get(f"/sso?token={token}").status_code

    codes: dict[str, dict[int, int]] = {"fill": {}, "while full": {}, "after expiry": {}}
    # a token's id is kept until exp + leeway (30 s): "after expiry" is past that
    for phase, count, at in (("fill", entries, T0), ("while full", entries // 10, T0 + 100),
                             ("after expiry", entries, T0 + 332)):
        now[0] = at
        for i in range(count):
            status = present(f"{phase}-{i}", at)
            codes[phase][status] = codes[phase].get(status, 0) + 1
    return {"max_entries": entries, "answers": {phase: dict(sorted(c.items())) for phase, c in codes.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=str(HERE / "storm.json"))
    args = parser.parse_args()
    entries = 20_000 if args.smoke else args.entries
    report = {"store": store_storm(entries, entries // 10),
              "verifier": verifier_storm(max(entries // 100, 1000))}
    print(json.dumps(report, indent=2))
    Path(args.out).write_text(json.dumps(report, indent=2))
    store = report["store"]
    flat = store["memory_growth_while_full_bytes"] < 4096  # (an exception's frames, not entries)
    return 0 if store["refusal_rate"] == 1.0 and flat else 1


if __name__ == "__main__":
    raise SystemExit(main())
