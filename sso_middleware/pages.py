"""Error pages: what a browser sees when the middleware refuses, and the hook apps style them with.

A page says what went wrong in the error's constant words, shows its stable
code, and offers a way on: "Sign in again" to where a fresh sign-in starts, or
back to the app. It never contains the token or anything else the request sent.
An app can render its own page from an :class:`ErrorPage` (``error_page=`` on
both middleware); JSON clients always get ``{"error": code, "message": ...}``.

>>> pages = ErrorPages(again="/sso/frill", label="Sign in again")
>>> from sso_middleware.errors import TokenExpired
>>> reply = pages.reply(TokenExpired(), "text/html")
>>> reply.status, b"Sign in again" in reply.body, b"token_expired" in reply.body
(401, True, True)
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from .errors import ConfigurationError, SSOError
from .messages import NO_STORE, Reply, wants_json

logger = logging.getLogger("sso_middleware")

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#123}"
    ".card{border:1px solid #ccd;border-radius:8px;padding:1rem 1.5rem}"
    "h1{font-size:1.4rem;margin-top:0}.code{color:#667;font-size:.85rem}"
    "a.button{display:inline-block;font:inherit;padding:.4rem 1rem;border-radius:6px;"
    "border:1px solid #456;background:#f4f7fb;color:#123;text-decoration:none}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
_CSP = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'"


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """What an ``error_page`` hook gets: only what is safe to show (nothing the request sent).

    :param code: the stable error code (``token_expired``, ``redirect_not_allowed``, ...).
    :param status: the HTTP status the page is sent with.
    :param message: the error's constant, human sentence.
    :param again: where the way on leads (a fresh sign-in, or back to the app).
    :param label: the words for that link (``Sign in again``, ``Back to the app``).
    :param title: the page's heading (``Sign-in failed``, ``Sign-out refused``, ...).

    >>> def my_page(page: ErrorPage) -> str:
    ...     return f"<h1>Oops</h1><p>{page.message}</p><a href='{page.again}'>{page.label}</a>"
    >>> ErrorPages(my_page, again="/", label="Home").reply(ConfigurationError(), None).body[:13]
    b'<h1>Oops</h1>'
    """

    code: str
    status: int
    message: str
    again: str
    label: str
    title: str = "Sign-in failed"


ErrorPageHook = Callable[[ErrorPage], "str | None"]


def default_page(page: ErrorPage) -> str:
    """The built-in page: the message, the code, and a button on."""
    title = escape(page.title)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><style>{_STYLE}</style></head><body>'
        f"<div class='card'><h1>{title}</h1><p>{escape(page.message)}</p>"
        f"<p><a class='button' id='again' href='{escape(page.again)}'>{escape(page.label)}</a></p>"
        f"<p class='code'>Error code: <code>{escape(page.code)}</code></p></div></body></html>"
    )


class ErrorPages:
    """Renders refusals for one middleware: its hook (or the built-in page) and its way on.

    :param hook: ``ErrorPage -> str | None``; ``None`` (or a hook that fails) gives the
        built-in page. What it returns is sent as HTML, as is: escape what you insert.
    :param again: the link on the page (a path or an absolute URL).
    :param label: its words.
    """

    def __init__(self, hook: ErrorPageHook | None = None, *, again: str = "/",
                 label: str = "Back to the app") -> None:
        if hook is not None and not callable(hook):
            raise ConfigurationError("error_page: pass a callable(ErrorPage) returning HTML, or None.")
        self._hook = hook
        self.again = again
        self.label = label

    def reply(self, err: SSOError, accept: str | None, *extra: tuple[str, str]) -> Reply:
        """The refusal ``err`` as a JSON client or a browser gets it."""
        if wants_json(accept):
            body = json.dumps({"error": err.code, "message": err.message}).encode()
            content_type, csp = "application/json", "default-src 'none'; frame-ancestors 'none'"
        else:
            page = ErrorPage(err.code, err.status, err.message, self.again, self.label, err.title)
            body, csp = self._html(page)
            content_type = "text/html; charset=utf-8"
        return Reply(
            err.status,
            (
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Content-Security-Policy", csp),
                *NO_STORE,
                *extra,
            ),
            body,
        )

    def _html(self, page: ErrorPage) -> tuple[bytes, str]:
        """The page, and its content security policy (the app's own page may load its assets)."""
        if self._hook is not None:
            try:
                html = self._hook(page)
            except Exception:  # the app's template failed: the refusal still gets a page
                logger.exception("error_page hook failed (code=%s); the built-in page was sent", page.code)
            else:
                if html is not None:
                    return html.encode("utf-8"), "frame-ancestors 'none'; base-uri 'none'"
        return default_page(page).encode("utf-8"), _CSP


__all__ = ["ErrorPage", "ErrorPageHook", "ErrorPages", "default_page"]
