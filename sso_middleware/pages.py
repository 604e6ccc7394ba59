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
from dataclasses import dataclass, replace
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
_CONFIRM_STYLE = _STYLE + (
    "button.button{display:inline-block;font:inherit;padding:.4rem 1rem;border-radius:6px;"
    "border:1px solid #456;background:#f4f7fb;color:#123;cursor:pointer}"
)
_SUBMIT = "document.forms[0].submit();"


def _hash(source: str) -> str:
    return base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


_CONFIRM_CSP = (
    f"default-src 'none'; style-src 'sha256-{_hash(_CONFIRM_STYLE)}'; script-src 'sha256-{_hash(_SUBMIT)}';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_OWN_CONFIRM_CSP = "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
_CONFIRM_TEXT = "You opened a sign-in link. Nothing happens until you press the button."
_MAX_WHO = 200


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


def _shell(title: str, style: str) -> str:
    """The start of every built-in page, up to its card's heading (``title`` is escaped here)."""
    title = escape(title)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><style>{style}</style></head><body>'
        f"<div class='card'><h1>{title}</h1>"
    )


def default_page(page: ErrorPage) -> str:
    """The built-in page: the message, the code, and a button on."""
    return (
        _shell(page.title, _STYLE) + f"<p>{escape(page.message)}</p>"
        f"<p><a class='button' id='again' href='{escape(page.again)}'>{escape(page.label)}</a></p>"
        f"<p class='code'>Error code: <code>{escape(page.code)}</code></p></div></body></html>"
    )


def notice_reply(title: str, message: str, *extra: tuple[str, str]) -> Reply:
    """A 200 page with a heading and one sentence (both escaped), never cached: "Signed out".

    >>> notice_reply("Signed out", "You are signed out.").body.count(b"Signed out")
    2
    """
    body = (_shell(title, _STYLE) + f"<p>{escape(message)}</p></div></body></html>").encode("utf-8")
    return Reply(200, (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                       ("Content-Security-Policy", _CSP), *NO_STORE, *extra), body)


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


# -- the confirm page of an emailed sign-in link ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfirmView:
    """What a confirm-page hook gets: whom the link signs in, and the form that does it.

    The page is answered to a link's ``GET`` (see :class:`sso_middleware.confirm.Confirm`);
    its one button POSTs ``fields`` (the token among them) to ``action``, a same-site path
    that never carries the token. Insert :meth:`form` as it is (it is escaped); anything
    else you insert, escape yourself (``who`` comes from the token's claims).

    :param who: whom the link signs in (the token's ``email``, else ``name``, else its
        subject), not escaped.
    :param action: where the form posts (a same-site path, without the token).
    :param fields: the form's hidden fields (the token).
    :param auto: whether the page may submit itself (a person's own click opened it).
    :param title: the page's heading.
    :param message: the page's sentence (not escaped).
    :param button: the button's words (``None``: :attr:`label`'s ``Continue as ...``).
    :param deny: the words of a second button that declines (``None``: one button). With it,
        both buttons are named ``decision``, valued ``allow`` and ``deny``.

    >>> view = ConfirmView("ada@example.com", "/sso", (("token", "a.b.c"),))
    >>> view.label
    'Continue as ada@example.com'
    >>> 'action="/sso"' in view.form() and "<script>" not in view.form()
    True
    """

    who: str
    action: str
    fields: tuple[tuple[str, str], ...]
    auto: bool = False
    title: str = "Continue signing in"
    message: str = _CONFIRM_TEXT
    deny: str | None = None
    button: str | None = None

    @property
    def label(self) -> str:
        """The button's words: ``Continue as ada@example.com`` (not escaped)."""
        return self.button if self.button is not None else f"Continue as {self.who}"

    def form(self, button_class: str = "button") -> str:
        """The form, escaped: hidden fields, one submit button, and the one-line script that
        submits it when :attr:`auto` (allowed by the page's content security policy)."""
        inputs = "".join(f'<input type="hidden" name="{escape(n)}" value="{escape(v)}">'
                         for n, v in self.fields)
        script = f"<script>{_SUBMIT}</script>" if self.auto else ""
        named, second = "", ""
        if self.deny is not None:
            named = ' name="decision" value="allow"'
            second = (f' <button type="submit" class="{escape(button_class)}" id="deny" name="decision"'
                      f' value="deny">{escape(self.deny)}</button>')
        return (f'<form method="post" action="{escape(self.action)}">{inputs}'
                f'<button type="submit" class="{escape(button_class)}" id="continue"{named}>'
                f"{escape(self.label)}</button>{second}</form>{script}")


ConfirmPageHook = Callable[[ConfirmView], "str | None"]


def default_confirm_page(view: ConfirmView) -> str:
    """The built-in confirm page: a heading, one sentence, and the button."""
    return (
        _shell(view.title, _CONFIRM_STYLE) + f"<p>{escape(view.message)}</p>{view.form()}</div></body></html>"
    )


def confirm_reply(view: ConfirmView, hook: ConfirmPageHook | None = None, *,
                  then: str | None = None) -> Reply:
    """The confirm page as a 200: the app's ``hook`` (``None`` from it, or a hook that fails,
    gives the built-in page), never cached, no referrer, forms only to this origin (and to
    ``then``, the origin the form's answer redirects to: browsers apply ``form-action`` to
    the redirects that follow a form, too)."""
    html, csp = None, _CONFIRM_CSP
    if hook is not None:
        try:
            html = hook(replace(view, who=view.who[:_MAX_WHO]))
        except Exception:  # the app's template failed: the person still gets a page
            logger.exception("confirm page hook failed; the built-in page was sent")
        csp = _CONFIRM_CSP if html is None else _OWN_CONFIRM_CSP
    if html is None:
        html = default_confirm_page(replace(view, who=view.who[:_MAX_WHO]))
    if then is not None:
        csp = csp.replace("form-action 'self'", f"form-action 'self' {then}")
    body = html.encode("utf-8", "replace")
    return Reply(200, (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                       ("Content-Security-Policy", csp), *NO_STORE), body)


__all__ = [
    "ConfirmPageHook",
    "ConfirmView",
    "ErrorPage",
    "ErrorPageHook",
    "ErrorPages",
    "confirm_reply",
    "default_confirm_page",
    "default_page",
    "notice_reply",
]
