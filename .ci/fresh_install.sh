#!/usr/bin/env bash
# The README's first command, as a newcomer runs it on a fresh machine: in a copy of the source tree
# (the files git tracks or would track: no venvs, caches or build output), a new venv made by the default python3 and the project installed
# exactly as the README says (`pip install -e .`, no extras); then the demo on a free port, which
# must print its URL first (nothing on stderr before it: no developer warnings), serve its first
# page (200, the demo's HTML) and stop cleanly on SIGTERM. Needs the network only for PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

install='python3 -m venv .venv && . .venv/bin/activate && pip install -e .'
demo='python -m sso_middleware demo'
if ! grep -qF -- "$install && $demo" README.md; then
    echo "fresh install: the README's first command is no longer '$install && $demo';" \
         "make .ci/fresh_install.sh run what it says" >&2
    exit 1
fi

work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

clone="$work/clone"
mkdir "$clone"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
    if [ -e "$file" ]; then cp -P --parents "$file" "$clone/"; fi  # (a file deleted but not yet committed)
done

echo "== fresh install: $(python3 --version) in a new venv: $install"
(cd "$clone" && eval "$install" >"$work/install.log" 2>&1) || {
    cat "$work/install.log" >&2
    echo "fresh install: '$install' failed" >&2
    exit 1
}

# exec: $! is the demo itself, so that it is the one that gets the signal
(cd "$clone" && . .venv/bin/activate && exec $demo --port 0 >"$work/out" 2>"$work/err") &
pid=$!
url=
for _ in $(seq 300); do  # up to 30 s for the URL line
    url=$(sed -n 's|^sso_middleware demo: open \(http://[^ ]*/\) .*|\1|p' "$work/out")
    if [ -n "$url" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "fresh install: the demo printed no URL; its output:" >&2
    cat "$work/out" "$work/err" >&2
    exit 1
fi
first=$(head -n 1 "$work/out")
if [ -s "$work/err" ] || [ "$first" != "sso_middleware demo: open $url in your browser (Ctrl-C to stop)" ]; then
    echo "fresh install: the demo must print its URL first, and nothing else before it:" >&2
    cat "$work/out" "$work/err" >&2
    exit 1
fi

python3 - "$url" <<'EOF'
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
    status, kind, page = response.status, response.headers["Content-Type"], response.read().decode()
assert status == 200, status
assert kind.startswith("text/html"), kind
assert "<title>Acme App</title>" in page and "Sign in as:" in page, page[:500]
print(f"== fresh install: {sys.argv[1]} answered {status} with the demo's first page ({len(page)} bytes)")
EOF

kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=
if [ "$code" -ne 0 ] || ! grep -q "^demo stopped$" "$work/out"; then
    echo "fresh install: the demo did not stop cleanly (exit $code):" >&2
    cat "$work/out" "$work/err" >&2
    exit 1
fi
echo "== fresh install: the demo stopped cleanly"
