"""``python -m sso_middleware``: the command line (:mod:`sso_middleware.cli`)."""

from .cli import main as main

if __name__ == "__main__":
    raise SystemExit(main())
