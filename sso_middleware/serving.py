"""werkzeug's server for the demo and live tests, with a request log that never shows a token.

Tokens travel in query strings and path segments, and werkzeug's request log
prints the whole request line; this handler logs the path with anything
token-shaped replaced and without the query string.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

# a JWT, also when a client percent-encoded its dots (%2E)
_DOT = r"(?:\.|%2[Ee])"
_TOKEN_SHAPED = re.compile(rf"[A-Za-z0-9_%-]{{8,}}{_DOT}[A-Za-z0-9_%-]{{2,}}{_DOT}[A-Za-z0-9_%-]{{2,}}")


def redact(text: str) -> str:
    """``text`` without its query string and with token-shaped runs replaced.

    >>> redact("GET /login/eyJhbGciOiJI.eyJzdWIi.c2ln?ssoToken=x HTTP/1.1")
    'GET /login/[token]?[query] HTTP/1.1'
    >>> redact("GET /login/eyJhbGciOiJI%2EeyJzdWIi%2Ec2ln HTTP/1.1")
    'GET /login/[token] HTTP/1.1'
    """
    text = _TOKEN_SHAPED.sub("[token]", text)
    return re.sub(r"\?\S*", "?[query]", text)


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging redacted request lines."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        original = getattr(self, "path", None)
        if original is None:
            self.requestline = redact(getattr(self, "requestline", ""))
            super().log_request(code, size)
            return
        self.path = redact(original)
        try:
            super().log_request(code, size)
        finally:
            self.path = original

    def log_error(self, format: str, *args: Any) -> None:
        super().log_error("%s", redact(format % args))


def local_server(app: WSGIApplication, port: int = 0, host: str = "127.0.0.1") -> BaseWSGIServer:
    """A threaded server for ``app`` on ``host`` (``port=0``: a free one)."""
    return make_server(host, port, app, threaded=True, request_handler=RedactingRequestHandler)


__all__ = [
    "RedactingRequestHandler",
    "local_server",
    "redact",
]
