"""How a token travels from the issuer to a service, one small class per way.

A placement knows both ends of the trip: how the issuer delivers a token to a
target URL, and how a receiver standing where the token lands recognises the
request, which methods it accepts, and where in the request the token is.
Adding a way for tokens to travel means adding one class here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import quote, urlsplit

from .errors import ConfigurationError
from .messages import MAX_FORM, Reply, Request, parse_query, post_form, redirect
from .redirects import with_params

TOKEN = "{token}"
"""Marks where the token goes in a :class:`PathSegment` target."""
_PARAM = re.compile(r"[A-Za-z0-9_.~-]{1,64}")
_NOT_IN_SEGMENT = frozenset("/?#")


def check_param(value: object, label: str) -> str:
    """``value`` if it is a plain parameter name, else a :class:`ConfigurationError`."""
    if not (isinstance(value, str) and _PARAM.fullmatch(value)):
        raise ConfigurationError(f"{label} {value!r} is not a parameter name (letters, digits, _.~-).")
    return value


class Placement:
    """Where a token travels. Subclasses fill in the two ends.

    :param param: the query parameter or form field that carries the token.
    """

    methods: ClassVar[tuple[str, ...]] = ("GET", "HEAD")
    """The methods a receiver accepts for a login."""
    body_limit: ClassVar[int] = 0
    """How many body bytes a receiver reads (only form posts read any)."""
    needs_target: ClassVar[bool] = True

    __slots__ = ("param",)

    def __init__(self, param: str = "token") -> None:
        self.param = check_param(param, f"{type(self).__name__}: param")

    def check_target(self, target: str, where: str) -> None:
        """Refuse a target URL this placement cannot deliver to."""
        if TOKEN in target:
            raise ConfigurationError(f"{where}: '{TOKEN}' in the target needs placement=PathSegment().")

    def listen_path(self, base: str) -> str:
        """The path a receiver listens on, given the target's (or the configured) path."""
        return base.rstrip("/") or "/"

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]]) -> Reply:
        """The reply that sends the browser (and the token) to ``target``."""
        raise NotImplementedError

    def matches(self, listen: str | None, path: str, query: str) -> bool:
        """Is this request a login for a receiver listening on ``listen``? String compares only."""
        return path == listen

    def extract(self, listen: str | None, request: Request) -> str | None:
        """The token in ``request`` (``None`` or empty when it carries none)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.param == self.param

    def __hash__(self) -> int:
        return hash((type(self), self.param))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.param!r})"


class QueryParameter(Placement):
    """The token in a query parameter of a GET: ``https://board.example.com/?ssoToken=…``.

    Without a target the token goes back on the (validated) return URL, and a
    receiver accepts it on any page whose query carries ``param`` (Frill).

    >>> QueryParameter("ssoToken").deliver("https://b.example.com/p?x=1", "T", []).headers[0]
    ('Location', 'https://b.example.com/p?x=1&ssoToken=T')
    """

    needs_target = False
    __slots__ = ()

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]]) -> Reply:
        return redirect(with_params(target, [*params, (self.param, token)]))

    def matches(self, listen: str | None, path: str, query: str) -> bool:
        if listen is None:
            marker = self.param + "="
            return query.startswith(marker) or "&" + marker in query
        return path == listen

    def extract(self, listen: str | None, request: Request) -> str | None:
        return parse_query(request.query, (self.param,)).get(self.param)


class PathSegment(Placement):
    """The token as the last path segment: ``https://acme.invoiced.com/login/{token}``.

    >>> PathSegment().deliver("https://acme.invoiced.com/login/{token}", "a.b.c", []).headers[0]
    ('Location', 'https://acme.invoiced.com/login/a.b.c')
    """

    __slots__ = ()

    def check_target(self, target: str, where: str) -> None:
        path = urlsplit(target).path
        if target.count(TOKEN) != 1 or not (path.endswith(TOKEN) or path.endswith(TOKEN + "/")):
            raise ConfigurationError(
                f"{where}: with placement=PathSegment() the target must end its path with "
                f"'{TOKEN}' (or '{TOKEN}/'), e.g. 'https://acme.invoiced.com/login/{TOKEN}'."
            )

    def listen_path(self, base: str) -> str:
        base = base[: base.index(TOKEN)] if TOKEN in base else base
        return base if base.endswith("/") else base + "/"

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]]) -> Reply:
        return redirect(with_params(target.replace(TOKEN, quote(token, safe="")), params))

    def matches(self, listen: str | None, path: str, query: str) -> bool:
        return listen is not None and len(path) > len(listen) and path.startswith(listen)

    def extract(self, listen: str | None, request: Request) -> str | None:
        token = request.path[len(listen or "") :]
        token = token[:-1] if token.endswith("/") else token  # Upvoty's '/{token}/'
        return None if _NOT_IN_SEGMENT.intersection(token) else token

    def __repr__(self) -> str:
        return "PathSegment()"


class FormField(Placement):
    """The token POSTed in a form field by an auto-submitting page (Zendesk's ``jwt``).

    Other parameters (Zendesk's ``return_to``, ``brand_id``, ...) go in the form's action
    URL, as the service's own examples put them; only the token travels in the body.

    >>> FormField("jwt").deliver("https://acme.zendesk.com/access/jwt", "T", []).status
    200
    """

    methods = ("POST",)
    body_limit = MAX_FORM
    __slots__ = ()

    def deliver(self, target: str, token: str, params: Sequence[tuple[str, str]]) -> Reply:
        return post_form(with_params(target, params), [(self.param, token)])

    def extract(self, listen: str | None, request: Request) -> str | None:
        return parse_query(request.body.decode("latin-1"), (self.param,)).get(self.param)


__all__ = ["TOKEN", "FormField", "PathSegment", "Placement", "QueryParameter"]
