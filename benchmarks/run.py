"""What users pay: every figure a ratio against a baseline timed in the same run.

    python -m benchmarks.run            # full run (several minutes), table + benchmarks/results.json
    python -m benchmarks.run --smoke    # tiny counts: proves the benchmarks still run (CI)

From the repository's root, as every module here (``benchmarks`` is a package). Beside it:
``real_servers.py`` (uvicorn and gunicorn under wrk, with an A/A control; its smoke run
is part of this one), ``server_instructions.py`` (instructions per request inside those servers,
counted by callgrind: the figures a noisy machine cannot move), ``storm.py`` (a million tokens
expiring at once in the replay store; its smoke run is part of this one) and ``sessions.py`` (1 to
100k live sessions against Starlette's session + auth pair; here in process, or its smoke run).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from sso_middleware.keys import Key, KeySet
from sso_middleware.tokens import TokenPolicy, sign, verify

from . import apps, floors, load, real_servers, replay_bench, sessions, storm
from .timing import Comparison, compare


def in_process(number: int, repeat: int) -> list[Comparison]:
    results: list[Comparison] = []
    a_args = {"number": number, "repeat": repeat}

    # 1. pass-through
    for n_services in (2, 1000):
        results.append(compare(
            f"pass-through raw ASGI ({n_services} services)",
            apps.asgi_call(apps.asgi_issuer(apps.raw_asgi, n_services), "/hello"),
            apps.asgi_call(apps.raw_asgi, "/hello"),
            baseline_name="raw ASGI callable", target="<= +0.5 us", **a_args))
    # ... and against the floors: two empty layers (as many as issuer + verifier), two dict lookups
    both = apps.asgi_issuer(apps.asgi_verifier(apps.raw_asgi))
    empty2 = floors.two_empty(apps.raw_asgi)
    results.append(compare(
        "pass-through raw ASGI, issuer + verifier", apps.asgi_call(both, "/hello"),
        apps.asgi_call(empty2, "/hello"), baseline_name="two empty ASGI layers", target="<= +0.25 us",
        **a_args))
    results.append(compare(
        "two dict-lookup layers (floor) raw ASGI",
        apps.asgi_call(floors.Lookup(floors.Lookup(apps.raw_asgi)), "/hello"),
        apps.asgi_call(empty2, "/hello"), baseline_name="two empty ASGI layers", target="(floor)", **a_args))
    results.append(compare(
        "pass-through raw WSGI, issuer + verifier",
        apps.wsgi_call(apps.wsgi_issuer(apps.wsgi_verifier(apps.raw_wsgi)), "/hello"),
        apps.wsgi_call(floors.two_empty_wsgi(apps.raw_wsgi), "/hello"), baseline_name="two empty WSGI layers",
        target="(information)", **a_args))
    hello = apps.starlette_hello()
    results.append(compare(
        "pass-through Starlette app", apps.asgi_call(apps.asgi_issuer(hello), "/hello"),
        apps.asgi_call(hello, "/hello"), baseline_name="Starlette app", target="<= 1.02x", **a_args))
    results.append(compare(
        "pass-through Starlette app (1000 services)",
        apps.asgi_call(apps.asgi_issuer(hello, 1000), "/hello"),
        apps.asgi_call(hello, "/hello"), baseline_name="Starlette app", target="<= 1.02x", **a_args))
    for n_services in (2, 1000):
        results.append(compare(
            f"pass-through raw WSGI ({n_services} services)",
            apps.wsgi_call(apps.wsgi_issuer(apps.raw_wsgi, n_services), "/hello"),
            apps.wsgi_call(apps.raw_wsgi, "/hello"),
            baseline_name="raw WSGI callable", target="<= +0.5 us", **a_args))
    flask_app = apps.flask_hello()
    results.append(compare(
        "pass-through Flask app", apps.wsgi_call(apps.wsgi_issuer(flask_app.wsgi_app), "/hello"),
        apps.wsgi_call(flask_app.wsgi_app, "/hello"), baseline_name="Flask app",
        target="<= 1.02x", **a_args))

    # 2. issue path vs the vendors' snippet in the same framework
    query = "redirect=https%3A%2F%2Ffeedback.acme.com%2Fb%2Froadmap"
    results.append(compare(
        "issue path Starlette", apps.asgi_call(apps.asgi_issuer(hello), "/sso/frill", query),
        apps.asgi_call(apps.starlette_vendor_snippet(), "/sso/frill", query),
        baseline_name="jwt.encode + RedirectResponse route", target="<= 1.1x", **a_args))
    results.append(compare(
        "issue path Flask", apps.wsgi_call(apps.wsgi_issuer(flask_app.wsgi_app), "/sso/frill", query),
        apps.wsgi_call(apps.flask_vendor_snippet().wsgi_app, "/sso/frill", query),
        baseline_name="jwt.encode + redirect view", target="<= 1.1x", **a_args))

    results.append(compare(
        "issue path Starlette, same work", apps.asgi_call(apps.asgi_issuer(hello), "/sso/frill", query),
        apps.asgi_call(apps.starlette_same_work(), "/sso/frill", query),
        baseline_name="route: same claims + jti, 4 headers, jwt.encode, redirect", target="<= 0.9x",
        **a_args))
    results.append(compare(
        "issue path Flask, same work",
        apps.wsgi_call(apps.wsgi_issuer(flask_app.wsgi_app), "/sso/frill", query),
        apps.wsgi_call(apps.flask_same_work().wsgi_app, "/sso/frill", query),
        baseline_name="view: same claims + jti, 4 headers, jwt.encode, redirect", target="<= 0.9x", **a_args))

    # 3. verify path: one fresh token per call for both sides
    count = number * repeat + 10
    results.append(compare(
        "verify path Starlette",
        apps.asgi_call_tokens(apps.asgi_verifier(hello), "/sso", apps.fresh_tokens(count)),
        apps.asgi_call_tokens(apps.starlette_hand_verifier(), "/sso", apps.fresh_tokens(count)),
        baseline_name="jwt.decode + SessionMiddleware route", target="<= 1.0x", **a_args))
    token = next(apps.fresh_tokens(1))
    key = Key(apps.KEY)
    policy = TokenPolicy(KeySet([key]))
    now = time.time()
    import jwt

    results.append(compare(
        "token verification alone", lambda: verify(token, policy, now),
        lambda: jwt.decode(token, apps.KEY, algorithms=["HS256"]),
        baseline_name="jwt.decode(token, key, algorithms=[...])", target="<= 0.67x (>= 1.5x throughput)",
        number=number * 4, repeat=repeat))
    claims = {**apps.USER, "iat": int(now), "exp": int(now) + 300, "jti": "x" * 22}
    results.append(compare(
        "token signing alone", lambda: sign(claims, key),
        lambda: jwt.encode(claims, apps.KEY, algorithm="HS256"),
        baseline_name="jwt.encode(claims, key, algorithm=...)", target="(information)",
        number=number * 4, repeat=repeat))
    secret = apps.KEY.encode()
    if floors.raw_sign(claims, secret) != sign(claims, key):  # the floor does the same work
        raise RuntimeError("the stdlib floor signs other bytes than sign()")
    floors.raw_verify(token, secret)
    results.append(compare(
        "HS256 signing vs the stdlib floor", lambda: sign(claims, key),
        lambda: floors.raw_sign(claims, secret),
        baseline_name="json + base64url + hmac.digest, header precomputed", target="<= 1.2x",
        number=number * 4, repeat=repeat))
    results.append(compare(
        "HS256 verification vs the stdlib floor", lambda: verify(token, policy, now),
        lambda: floors.raw_verify(token, secret),
        baseline_name="json + base64url + hmac.compare_digest, alg and exp", target="(information)",
        number=number * 4, repeat=repeat))

    results.extend(key_pairs(max(number // 10, 5), repeat, claims))

    # 4. authenticated request (session cookie present) vs the bare app
    verifier = apps.asgi_verifier(hello)
    cookie = apps.session_cookie()
    headers = [(b"host", b"bench"), (b"cookie", cookie.encode())]
    results.append(compare(
        "authenticated request Starlette", apps.asgi_call(verifier, "/hello", headers=headers),
        apps.asgi_call(hello, "/hello", headers=headers), baseline_name="Starlette app",
        target="<= 1.05x", **a_args))
    wverifier = apps.wsgi_verifier(flask_app.wsgi_app)
    wcookie = apps.session_cookie()
    results.append(compare(
        "authenticated request Flask",
        apps.wsgi_call(wverifier, "/hello", headers={"Cookie": wcookie}),
        apps.wsgi_call(flask_app.wsgi_app, "/hello", headers={"Cookie": wcookie}),
        baseline_name="Flask app", target="(information)", **a_args))
    return results


def key_pairs(number: int, repeat: int, claims: dict[str, Any]) -> list[Comparison]:
    """Signing and verifying with each key-pair algorithm, against PyJWT with the same key objects
    (RSA keys are 3,072 bits, as ``Key.generate`` makes them)."""
    import jwt

    results: list[Comparison] = []
    now = time.time()
    for alg in ("RS256", "PS256", "ES256", "EdDSA"):
        key = Key.generate(alg)
        private, public = key._prepared, key._public  # the same objects PyJWT is handed
        policy = TokenPolicy(KeySet([Key(key.public_jwk())]))
        token = sign(claims, key)
        results.append(compare(
            f"{alg} signing", lambda key=key: sign(claims, key),
            lambda private=private, alg=alg: jwt.encode(claims, private, algorithm=alg),
            baseline_name="jwt.encode(claims, private_key, algorithm=...)", target="(information)",
            number=number, repeat=repeat))
        results.append(compare(
            f"{alg} verification", lambda token=token, policy=policy: verify(token, policy, now),
            lambda token=token, public=public, alg=alg: jwt.decode(token, public, algorithms=[alg]),
            baseline_name="jwt.decode(token, public_key, algorithms=[...])", target="<= 1.0x",
            number=number, repeat=repeat))
    return results


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    body = ["  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny counts, for CI")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results.json"))
    parser.add_argument("--skip-load", action="store_true", help="skip the real-server load test")
    args = parser.parse_args()
    number, repeat = (20, 3) if args.smoke else (2000, 15)

    machine = {"python": platform.python_version(), "platform": platform.platform(),
               "processor": platform.machine(), "cpus": __import__("os").cpu_count()}
    report: dict[str, Any] = {"machine": machine, "smoke": args.smoke}

    comparisons = [c.as_dict() for c in in_process(number, repeat)]
    report["in_process"] = comparisons
    print(table(comparisons, ["name", "subject_us", "baseline_us", "ratio", "spread", "delta_us", "target",
                              "baseline"]))

    sizes = (1000, 5000) if args.smoke else (10_000, 100_000, 1_000_000)
    report["replay_store"] = replay_bench.measure(sizes)
    print()
    print(table(report["replay_store"],
                ["entries", "bytes_per_entry", "claim_us", "claim_spread_us", "floor_us"]))

    report["storm"] = storm.store_storm(*((20_000, 2_000) if args.smoke else (1_000_000, 100_000)))
    print()
    print(json.dumps(report["storm"]))

    report["sessions"] = sessions.run(smoke=args.smoke, parts=("in_process",))
    print()
    sessions.show(report["sessions"])

    if not args.skip_load:
        servers = real_servers.run(*((1, 1, ["uvicorn-httptools"]) if args.smoke
                                     else (3, 5, list(real_servers.SERVERS))))
        report["real_servers"] = servers
        print()
        print(table(servers["rows"], ["server", "case", "subject", "rps", "p50_ms", "p99_ms", "ratio",
                                      "spread", "cpu_us", "cpu_ratio", "errors"]))
        if any(row["errors"] for row in servers["rows"]):
            print("real-server errors", file=sys.stderr)
            return 1
        clients, trips = (20, 200) if args.smoke else (200, 10_000)
        report["load"] = load.run(clients=clients, round_trips=trips)
        print()
        print(table(report["load"]["rows"], ["name", "requests", "errors", "per_second", "p50_ms",
                                             "p99_ms"]))
        if report["load"]["errors"]:
            print(f"load test errors: {report['load']['errors']}", file=sys.stderr)
            return 1

    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
