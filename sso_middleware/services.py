"""Service: one destination's configuration, plus presets for known services.

A service varies in: the claims it expects, the algorithm, where the token
goes (query parameter, path segment or POSTed form field), the return
parameter it sends and the hosts that parameter may point at, extra
parameters it wants echoed back, and the token's lifetime. The same
description tells a :class:`~sso_middleware.wsgi.VerifierMiddleware` how to
receive like that service does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from .errors import ConfigurationError, MissingClaim, RedirectNotAllowed
from .keys import KeyInput, KeySet
from .principal import Principal
from .redirects import AllowedHosts, check_url, host_key, safe_relative_path

Placement = Literal["query", "path", "form"]
ClaimBuilder = Callable[[Principal], Mapping[str, Any]]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_PARAM = re.compile(r"[A-Za-z0-9_.~-]{1,64}")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_TOKEN = "{token}"
_RESERVED = frozenset({"iat", "exp", "jti"})


def need(principal: Principal, field: str) -> Any:
    """``principal.<field>`` (or that attribute), raising :class:`MissingClaim` if it is empty."""
    value = getattr(principal, field, None) if field in ("id", "email", "name") else (
        principal.attributes.get(field)
    )
    if value is None or value == "":
        raise MissingClaim(field)
    return value


class Service:
    """How to sign a user in to one service, and how that service receives them.

    Only hosts you list may receive a token: a service's return parameter
    (Frill's ``redirect``) comes from the browser and is attacker-controlled,
    so it is checked against ``hosts`` before anything is signed. Claims come
    from the server-side :class:`Principal` only; ``iat``, ``exp`` (now +
    ``ttl``) and a random ``jti`` are added to every token.

    :param name: the login path's last segment (``/sso/{name}``).
    :param key: the service's secret (str taken as UTF-8 bytes), or a list, newest first.
    :param claims: builds the service's claims from a ``Principal``.
    :param target: where the token goes, e.g. ``https://acme.example.com/login/{token}``;
        ``None`` sends the browser back to the validated return URL.
    :param placement: ``"query"``, ``"path"`` (``{token}`` in ``target``) or ``"form"`` (POST).
    :param token_param: the query parameter or form field carrying the token.
    :param return_param: the parameter the service sends us to say where to go back to.
    :param forward_as: pass the validated return URL on to ``target`` under this name.
    :param relative_return: the return parameter is a same-site path (``/article/1``) to forward,
        not a URL to go to (Help Scout's ``returnTo``).
    :param hosts: hosts the return URL may point at (``feedback.acme.com``, ``*.acme.com``).
    :param default_return: where to go when the service sent no return URL.
    :param echo: request parameters copied through to the target unchanged.
    :param ttl: the token's lifetime in seconds.
    :param required_claims: claims a receiver standing in for this service requires.
    :param identity: the claim naming the user on the receiving side.
    :param max_age: a receiver accepts a token with ``iat`` but no ``exp`` this long.
    :param typ: the token's ``typ`` header; a distinct one (``"app-b+jwt"``) lets a receiver
        configured with ``typ=`` refuse tokens minted for anything else.

    >>> svc = Service(name="board", key="a-secret-of-at-least-thirty-two-bytes!",
    ...               claims=lambda u: {"sub": u.id}, target="https://board.example.com/sso")
    >>> svc.receive_path
    '/sso'
    """

    __slots__ = (
        "algorithm",
        "claims",
        "default_return",
        "echo",
        "forward_as",
        "hosts",
        "identity",
        "keys",
        "max_age",
        "name",
        "placement",
        "receive_path",
        "relative_return",
        "required_claims",
        "return_param",
        "target",
        "token_param",
        "ttl",
        "typ",
    )

    def __init__(
        self,
        *,
        name: str,
        key: KeyInput,
        claims: ClaimBuilder,
        target: str | None = None,
        placement: Placement = "query",
        token_param: str = "token",
        return_param: str | None = None,
        forward_as: str | None = None,
        relative_return: bool = False,
        hosts: Iterable[str] = (),
        default_return: str | None = None,
        echo: Sequence[str] = (),
        ttl: int = 300,
        algorithm: str = "HS256",
        required_claims: Sequence[str] = (),
        identity: Sequence[str] = ("sub", "id"),
        max_age: float | None = None,
        typ: str | None = "JWT",
    ) -> None:
        where = f"service {name!r}"
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigurationError(
                f"service name {name!r}: use lower-case letters, digits, '-' or '_' "
                "(it becomes a URL path segment)."
            )
        if not callable(claims):
            raise ConfigurationError(f"{where}: claims must be a callable(Principal) -> dict.")
        if placement not in ("query", "path", "form"):
            raise ConfigurationError(
                f"{where}: placement must be 'query', 'path' or 'form', not {placement!r}."
            )
        for label, param in (("token_param", token_param), ("return_param", return_param),
                             ("forward_as", forward_as), *(("echo", e) for e in echo)):
            if param is not None and not (isinstance(param, str) and _PARAM.fullmatch(param)):
                raise ConfigurationError(f"{where}: {label} {param!r} is not a parameter name.")
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= 86400:
            raise ConfigurationError(f"{where}: ttl must be whole seconds between 1 and 86400.")
        self.name = name
        self.algorithm = algorithm
        self.keys = KeySet.build(key, algorithm=algorithm, field=f"{where}: key")
        self.claims = claims
        self.placement: Placement = placement
        self.token_param = token_param
        self.return_param = return_param
        self.forward_as = forward_as
        self.relative_return = relative_return
        if relative_return and (target is None or forward_as is None):
            raise ConfigurationError(
                f"{where}: relative_return needs a target and forward_as: a same-site path is "
                "passed on to the service, never used as the destination."
            )
        self.hosts = AllowedHosts(hosts, field=f"{where}: hosts")
        self.echo = tuple(echo)
        self.ttl = ttl
        self.required_claims = tuple(required_claims)
        self.identity = tuple(identity)
        self.max_age = max_age
        if typ is not None and not (isinstance(typ, str) and _PARAM.fullmatch(typ.replace("+", "."))):
            raise ConfigurationError(f"{where}: typ {typ!r} is not a media type name.")
        self.typ = typ
        self.target = target
        self.receive_path = self._check_target(where)
        if return_param is not None and not self.hosts and target is None:
            raise ConfigurationError(
                f"{where}: hosts is empty, so no return URL could ever be accepted. List the "
                "service's hosts, e.g. hosts=['feedback.acme.com']."
            )
        if default_return is not None and host_key(default_return) is None:
            raise ConfigurationError(
                f"{where}: default_return {default_return!r} must be an absolute https URL."
            )
        self.default_return = default_return
        if target is None and default_return is None and return_param is None:
            raise ConfigurationError(
                f"{where}: set target=..., or return_param=... with hosts=[...], so the "
                "browser has somewhere to go."
            )

    def _check_target(self, where: str) -> str | None:
        """Validate ``target`` for the placement; return the path a receiver listens on."""
        target = self.target
        if target is None:
            if self.placement != "query":
                raise ConfigurationError(
                    f"{where}: placement {self.placement!r} needs a target URL."
                )
            return None  # the token comes back on whatever page the return URL names
        if not isinstance(target, str) or host_key(target.replace(_TOKEN, "t")) is None:
            raise ConfigurationError(
                f"{where}: target {target!r} must be an absolute https URL (http only for "
                "localhost) with no credentials."
            )
        path = urlsplit(target).path or "/"
        if self.placement == "path":
            if target.count(_TOKEN) != 1 or not path.endswith(_TOKEN):
                raise ConfigurationError(
                    f"{where}: with placement='path' the target must end its path with "
                    "'{token}', e.g. 'https://acme.invoiced.com/login/{token}'."
                )
            return path[: -len(_TOKEN)]
        if _TOKEN in target:
            raise ConfigurationError(
                f"{where}: '{{token}}' in the target needs placement='path'."
            )
        return path

    def check_return(self, value: str) -> str:
        """The service's return parameter, if it may be used; else :class:`RedirectNotAllowed`."""
        if self.relative_return:
            path = safe_relative_path(value)
            if path is None:
                raise RedirectNotAllowed()
            return path
        return check_url(value, self.hosts)

    def build_claims(self, principal: Principal) -> dict[str, Any]:
        claims = dict(self.claims(principal))
        reserved = _RESERVED.intersection(claims)
        if reserved:
            raise ConfigurationError(
                f"service {self.name!r}: the claim builder returned {sorted(reserved)}; "
                "iat, exp and jti are added by the issuer."
            )
        return claims

    def token_url(self, token: str) -> str:
        """The target with the token in its path (``placement='path'`` only)."""
        return (self.target or "").replace(_TOKEN, quote(token, safe=""))

    def __repr__(self) -> str:
        return f"<Service {self.name!r} {self.placement} -> {self.target or 'return URL'}>"


def generic(**options: Any) -> Service:
    """Any service with the usual JWT-SSO pattern; see :class:`Service` for the options.

    >>> svc = generic(name="docs", key="a-secret-of-at-least-thirty-two-bytes!",
    ...               claims=lambda u: {"sub": str(u.id), "email": u.email},
    ...               target="https://docs.example.com/authcallback", token_param="token")
    >>> svc.placement
    'query'
    """
    return Service(**options)


def frill(
    *,
    key: KeyInput,
    hosts: Iterable[str],
    default_redirect: str | None = None,
    name: str = "frill",
    ttl: int = 300,
) -> Service:
    """Frill: claims ``email``, ``id``, ``name``; back to Frill's ``redirect`` with ``ssoToken``.

    Frill sends the browser to ``/sso/frill?redirect=<board URL>``; that URL
    must be on ``hosts`` (your board's custom domain or ``acme.frill.co``).
    Without a ``redirect`` the browser goes to ``default_redirect``, by default
    the root of the first host.

    >>> svc = frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["feedback.acme.com"])
    >>> svc.default_return
    'https://feedback.acme.com/'
    """
    host_list = list(hosts) if not isinstance(hosts, str) else hosts
    first = AllowedHosts(host_list, field=f"service {name!r}: hosts").first()
    if default_redirect is None and first is not None:
        default_redirect = f"https://{first}/"

    def claims(user: Principal) -> dict[str, Any]:
        return {"email": need(user, "email"), "id": need(user, "id"), "name": need(user, "name")}

    return Service(
        name=name,
        key=key,
        claims=claims,
        token_param="ssoToken",
        return_param="redirect",
        hosts=host_list,
        default_return=default_redirect,
        ttl=ttl,
        required_claims=("email", "id", "name"),
        identity=("id",),
        max_age=ttl,
    )


def invoiced(
    *,
    key: KeyInput,
    company: str | None = None,
    customer_id: str | Callable[[Principal], Any] | None = None,
    issuer: str = "sso_middleware",
    base_url: str | None = None,
    name: str = "invoiced",
    ttl: int = 300,
) -> Service:
    """Invoiced customer portal: ``sub`` (the customer id, type kept), ``iss``, ``exp``.

    The browser goes to ``https://{company}.invoiced.com/login/{token}``
    (or ``{base_url}/login/{token}``). ``customer_id`` is a callable taking the
    ``Principal``, or the name of one of its attributes; by default the user's id.

    >>> svc = invoiced(key="a-secret-of-at-least-thirty-two-bytes!", company="acme")
    >>> svc.target
    'https://acme.invoiced.com/login/{token}'
    """
    if base_url is None:
        if not isinstance(company, str) or not _LABEL.fullmatch(company):
            raise ConfigurationError(
                f"service {name!r}: company must be your Invoiced subdomain (the 'acme' in "
                "acme.invoiced.com), or pass base_url='https://billing.acme.com'."
            )
        base_url = f"https://{company}.invoiced.com"
    if not isinstance(issuer, str) or not issuer:
        raise ConfigurationError(f"service {name!r}: issuer must be a non-empty string.")

    def customer(user: Principal) -> Any:
        if customer_id is None:
            return need(user, "id")
        if callable(customer_id):
            value = customer_id(user)
            if value is None or value == "":
                raise MissingClaim("sub")
            return value
        return need(user, customer_id)

    return Service(
        name=name,
        key=key,
        claims=lambda user: {"sub": customer(user), "iss": issuer},
        target=f"{base_url.rstrip('/')}/login/{_TOKEN}",
        placement="path",
        ttl=ttl,
        required_claims=("sub", "iss"),
        identity=("sub",),
    )


def zendesk(*, key: KeyInput, subdomain: str, hosts: Iterable[str] = (), name: str = "zendesk",
            ttl: int = 180) -> Service:
    """Zendesk: ``name``/``email`` claims POSTed (field ``jwt``) to ``/access/jwt``.

    Zendesk's ``return_to`` is forwarded when it is on ``hosts`` (by default
    ``{subdomain}.zendesk.com``).

    >>> zendesk(key="a-secret-of-at-least-thirty-two-bytes!", subdomain="acme").placement
    'form'
    """
    if not isinstance(subdomain, str) or not _LABEL.fullmatch(subdomain):
        raise ConfigurationError(f"service {name!r}: subdomain must be your Zendesk subdomain.")
    return Service(
        name=name,
        key=key,
        claims=lambda u: {"name": need(u, "name"), "email": need(u, "email"), "external_id": str(u.id)},
        target=f"https://{subdomain}.zendesk.com/access/jwt",
        placement="form",
        token_param="jwt",
        return_param="return_to",
        forward_as="return_to",
        hosts=list(hosts) or [f"{subdomain}.zendesk.com"],
        ttl=ttl,
        required_claims=("name", "email"),
        identity=("email",),
    )


def canny(*, key: KeyInput, hosts: Iterable[str] = ("canny.io", "*.canny.io"),
          name: str = "canny", ttl: int = 300) -> Service:
    """Canny: ``email``, ``id``, ``name``; ``/api/redirects/sso?companyID=&ssoToken=&redirect=``.

    >>> canny(key="a-secret-of-at-least-thirty-two-bytes!").echo
    ('companyID',)
    """
    return Service(
        name=name,
        key=key,
        claims=lambda u: {"email": need(u, "email"), "id": need(u, "id"), "name": need(u, "name")},
        target="https://canny.io/api/redirects/sso",
        token_param="ssoToken",
        return_param="redirect",
        forward_as="redirect",
        hosts=hosts,
        echo=("companyID",),
        ttl=ttl,
        required_claims=("email", "id", "name"),
        identity=("id",),
    )


def featurebase(*, key: KeyInput, organization: str, hosts: Iterable[str] = (),
                name: str = "featurebase", ttl: int = 300) -> Service:
    """Featurebase: ``…/api/v1/auth/access/jwt?jwt=&return_to=``.

    >>> featurebase(key="a-secret-of-at-least-thirty-two-bytes!", organization="acme").token_param
    'jwt'
    """
    if not isinstance(organization, str) or not _LABEL.fullmatch(organization):
        raise ConfigurationError(f"service {name!r}: organization must be your Featurebase subdomain.")
    host = f"{organization}.featurebase.app"
    return Service(
        name=name,
        key=key,
        claims=lambda u: {"email": need(u, "email"), "name": need(u, "name"), "userId": str(u.id)},
        target=f"https://{host}/api/v1/auth/access/jwt",
        token_param="jwt",
        return_param="return_to",
        forward_as="return_to",
        hosts=list(hosts) or [host],
        ttl=ttl,
        required_claims=("email", "name"),
        identity=("userId",),
    )


def helpscout(
    *,
    key: KeyInput,
    site: str,
    claims: ClaimBuilder | None = None,
    name: str = "helpscout",
    ttl: int = 300,
) -> Service:
    """Help Scout Docs restricted sites: HS512, ``{site}/authcallback?token=&returnTo=``.

    Help Scout sends ``returnTo`` as a relative path; it is checked to be one
    and passed back. Claims default to ``email`` (and ``name`` when known).

    >>> svc = helpscout(key="k" * 64, site="https://docs.acme.com")
    >>> svc.target, svc.algorithm
    ('https://docs.acme.com/authcallback', 'HS512')
    """
    if not isinstance(site, str) or host_key(site) is None or site.rstrip("/").count("/") > 2:
        raise ConfigurationError(
            f"service {name!r}: site must be your Docs site's base URL, e.g. "
            "'https://docs.acme.com' or 'https://acme.helpscoutdocs.com'."
        )

    def default_claims(user: Principal) -> dict[str, Any]:
        found: dict[str, Any] = {"email": need(user, "email")}
        if user.name:
            found["name"] = user.name
        return found

    return Service(
        name=name,
        key=key,
        claims=claims or default_claims,
        target=f"{site.rstrip('/')}/authcallback",
        token_param="token",
        return_param="returnTo",
        forward_as="returnTo",
        relative_return=True,
        algorithm="HS512",
        ttl=ttl,
        required_claims=("email",),
        identity=("email",),
    )
