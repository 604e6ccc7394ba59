"""Service: one destination's configuration, as three value objects, plus presets.

A service is described by what its token says (:class:`TokenRules`), where the
token goes (:class:`Destination`: a target URL and a placement), and where the
browser comes back from and may go (:class:`ReturnRules`). The same
description tells a ``VerifierMiddleware`` how to receive like that service.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import BadRequest, ConfigurationError, MissingClaim, RedirectMissing, RedirectNotAllowed
from .keys import KeyInput, KeySet
from .messages import Reply, parse_query
from .placements import TOKEN, FormField, PathSegment, Placement, QueryParameter, check_param
from .principal import Principal
from .redirects import AllowedHosts, check_url, host_key, safe_relative_path
from .tokens import check_seconds, json_value, sign

ClaimBuilder = Callable[[Principal], Mapping[str, Any]]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_TYP = re.compile(r"[A-Za-z0-9_.~+-]{1,64}")
_RESERVED = frozenset({"iat", "exp", "jti"})
_MAX_ECHO = 512


def need(principal: Principal, field: str) -> Any:
    """``principal.<field>`` (or that attribute), raising :class:`MissingClaim` if it is empty."""
    value = getattr(principal, field, None) if field in ("id", "email", "name") else (
        principal.attributes.get(field)
    )
    if value is None or value == "":
        raise MissingClaim(field)
    return value


@dataclass(frozen=True, slots=True)
class TokenRules:
    """What a service's token says: claims, algorithm, lifetime, and what a receiver requires.

    Claims come from the server-side :class:`Principal` only; ``iat``, ``exp``
    (now + ``ttl``) and a random ``jti`` are added to every token.

    :param claims: builds the service's claims from a ``Principal`` (``None``: receive only).
    :param required: claims a receiver standing in for this service requires.
    :param identity: the claims naming the user on the receiving side, first present wins.
    :param algorithm: ``HS256``, ``HS384`` or ``HS512``.
    :param ttl: the token's lifetime in whole seconds (1 to 86400).
    :param typ: the ``typ`` header; a distinct one (``"app-b+jwt"``) lets a receiver
        configured with ``typ=`` refuse tokens minted for anything else.
    :param max_age: a receiver accepts a token with ``iat`` but no ``exp`` this long.

    >>> rules = TokenRules.requiring("email", "id", identity=("id",))
    >>> rules.claims(Principal(7, "ada@example.com")), rules.required
    ({'email': 'ada@example.com', 'id': 7}, ('email', 'id'))
    """

    claims: ClaimBuilder | None = None
    required: tuple[str, ...] = ()
    identity: tuple[str, ...] = ("sub", "id")
    algorithm: str = "HS256"
    ttl: int = 300
    typ: str | None = "JWT"
    max_age: float | None = None

    def __post_init__(self) -> None:
        if self.claims is not None and not callable(self.claims):
            raise ConfigurationError("claims must be a callable(Principal) -> dict.")
        if isinstance(self.ttl, bool) or not isinstance(self.ttl, int) or not 0 < self.ttl <= 86400:
            raise ConfigurationError("ttl must be whole seconds between 1 and 86400.")
        if self.typ is not None and not (isinstance(self.typ, str) and _TYP.fullmatch(self.typ)):
            raise ConfigurationError(f"typ {self.typ!r} is not a media type name.")
        if self.max_age is not None:
            check_seconds(self.max_age, "max_age")
        object.__setattr__(self, "required", tuple(self.required))
        object.__setattr__(self, "identity", tuple(self.identity))
        if not self.identity:
            raise ConfigurationError("identity: name at least one claim, e.g. ('sub', 'id').")

    @classmethod
    def requiring(
        cls, *fields: str, extra: ClaimBuilder | None = None, **options: Any
    ) -> TokenRules:
        """Rules whose claims are the principal's ``fields`` (each required), plus ``extra``."""

        def claims(user: Principal) -> dict[str, Any]:
            found = {name: need(user, name) for name in fields}
            if extra is not None:
                found.update(extra(user))
            return found

        return cls(claims=claims, required=fields, **options)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the token goes: a target URL and a :mod:`placement <sso_middleware.placements>`.

    ``target=None`` sends the token back on the validated return URL (Frill);
    a receiver then accepts it on any page. ``path`` is for receivers only: it
    names the path they listen on when there is no target.

    :param target: absolute https URL (http only for loopback hosts), no credentials.
    :param placement: ``QueryParameter("token")`` (default), ``PathSegment()`` or ``FormField("jwt")``.
    :param path: the path a receiver listens on, when there is no target.

    >>> Destination("https://acme.invoiced.com/login/{token}", PathSegment()).listen
    '/login/'
    """

    target: str | None = None
    placement: Placement = field(default_factory=QueryParameter)
    path: str | None = None
    listen: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        placement, target = self.placement, self.target
        if not isinstance(placement, Placement):
            raise ConfigurationError(
                f"placement {placement!r}: use QueryParameter('token'), PathSegment() or "
                "FormField('jwt') from sso_middleware.placements."
            )
        if target is not None:
            if not isinstance(target, str) or host_key(target.replace(TOKEN, "t")) is None:
                raise ConfigurationError(
                    f"target {target!r} must be an absolute https URL (http only for localhost) "
                    "with no credentials."
                )
            placement.check_target(target, "target")
            base: str | None = urlsplit(target).path or "/"
        elif self.path is not None:
            if safe_relative_path(self.path) is None or "?" in self.path or "#" in self.path:
                raise ConfigurationError(f"path {self.path!r}: use a path such as '/sso'.")
            base = self.path
        elif placement.needs_target:
            raise ConfigurationError(f"placement {placement!r} needs a target URL.")
        else:
            base = None  # the token comes back on whatever page the return URL names
        object.__setattr__(self, "listen", None if base is None else placement.listen_path(base))


@dataclass(frozen=True, slots=True)
class ReturnRules:
    """Where the browser comes back from and may go.

    Only hosts you list may receive a token: a service's return parameter
    (Frill's ``redirect``) comes from the browser and is attacker-controlled,
    so it is checked against ``hosts`` before anything is signed.

    :param param: the parameter the service sends us to say where to go back to.
    :param hosts: hosts that URL may point at (``feedback.acme.com``, ``*.acme.com``).
    :param forward_as: pass the validated return value on to the target under this name.
    :param relative: the return value is a same-site path (``/article/1``) to forward,
        not a URL to go to (Help Scout's ``returnTo``).
    :param default: where to go when the service sent none (absolute https URL).
    :param echo: request parameters copied through to the target unchanged.

    >>> ReturnRules("redirect", hosts=["fb.acme.com"]).resolve("redirect=https://fb.acme.com/b")
    ('https://fb.acme.com/b', ())
    """

    param: str | None = None
    hosts: AllowedHosts | Iterable[str] = ()
    forward_as: str | None = None
    relative: bool = False
    default: str | None = None
    echo: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for label, name in (("return param", self.param), ("forward_as", self.forward_as)):
            if name is not None:
                check_param(name, label)
        echo = tuple(check_param(name, "echo") for name in self.echo)
        object.__setattr__(self, "echo", echo)
        if not isinstance(self.hosts, AllowedHosts):
            object.__setattr__(self, "hosts", AllowedHosts(self.hosts))
        if self.default is not None and host_key(self.default) is None:
            raise ConfigurationError(f"default {self.default!r} must be an absolute https URL.")
        if self.relative and self.forward_as is None:
            raise ConfigurationError(
                "relative return values need forward_as: a same-site path is passed on to "
                "the service, never used as the destination."
            )

    def resolve(self, query: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
        """The checked return value and the echoed parameters of a login request's query."""
        names = [n for n in (self.param, *self.echo) if n]
        params = parse_query(query, names) if names else {}
        value = params.get(self.param or "")
        url = self.check(value) if value else self.default
        echoed = tuple((name, params[name]) for name in self.echo if name in params)
        if any(len(v) > _MAX_ECHO for _, v in echoed):
            raise BadRequest()
        return url, echoed

    def check(self, value: str) -> str:
        """``value`` if the browser may be sent (or it may be forwarded) there."""
        if self.relative:
            path = safe_relative_path(value)
            if path is None:
                raise RedirectNotAllowed(detail="not a same-site path")
            return path
        return check_url(value, self.hosts)  # type: ignore[arg-type]


def _not_json(claims: Mapping[str, Any]) -> str:
    """Which claim cannot be written as JSON, for a configuration message (names, not values)."""
    for name, value in claims.items():
        try:
            json.dumps(value, allow_nan=False, default=json_value)
        except (TypeError, ValueError):
            return (
                f"the claim {name!r} is a {type(value).__name__}, which JSON cannot carry; have the "
                "extractor or claim builder return str, int, float, bool, None, lists or dicts."
            )
    return "the claims cannot be written as JSON."


@dataclass(frozen=True, slots=True)
class Pending:
    """A login request that passed every check but the user's: where to return, what to echo."""

    return_url: str | None
    echoed: tuple[tuple[str, str], ...]


class Service:
    """How to sign a user in to one service, and how that service receives them.

    :param name: the login path's last segment (``/sso/{name}``).
    :param key: the service's secret (str taken as UTF-8 bytes), or a list, newest first.
    :param token: what the token says (:class:`TokenRules`).
    :param destination: where it goes (:class:`Destination`).
    :param returns: where the browser comes back from and may go (:class:`ReturnRules`).

    >>> svc = Service(name="board", key="a-secret-of-at-least-thirty-two-bytes!",
    ...               token=TokenRules(claims=lambda u: {"sub": u.id}),
    ...               destination=Destination("https://board.example.com/sso"))
    >>> svc.destination.listen
    '/sso'
    """

    __slots__ = ("destination", "keys", "name", "returns", "token")

    def __init__(
        self,
        *,
        name: str,
        key: KeyInput | KeySet,
        token: TokenRules,
        destination: Destination,
        returns: ReturnRules | None = None,
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigurationError(
                f"service name {name!r}: use lower-case letters, digits, '-' or '_' "
                "(it becomes a URL path segment)."
            )
        where = f"service {name!r}"
        for label, value, kind in (("token", token, TokenRules), ("destination", destination, Destination),
                                   ("returns", returns or ReturnRules(), ReturnRules)):
            if not isinstance(value, kind):
                raise ConfigurationError(
                    f"{where}: {label} must be a {kind.__name__}(...) from sso_middleware.services."
                )
        returns = returns or ReturnRules()
        self.name = name
        self.keys = KeySet.build(key, algorithm=token.algorithm, field=f"{where}: key")
        self.token = token
        self.destination = destination
        self.returns = returns
        if returns.relative and destination.target is None:
            raise ConfigurationError(f"{where}: a relative return value is forwarded to a target; set one.")
        if destination.target is None and destination.path is None:
            if returns.param is not None and not returns.hosts and not returns.relative:
                raise ConfigurationError(
                    f"{where}: hosts is empty, so no return URL could ever be accepted. List the "
                    "service's hosts, e.g. ReturnRules('redirect', hosts=['feedback.acme.com'])."
                )
            if returns.param is None and returns.default is None:
                raise ConfigurationError(
                    f"{where}: set a Destination target, or a ReturnRules param with hosts, so "
                    "the browser has somewhere to go."
                )

    @property
    def issues(self) -> bool:
        """Whether an issuer can send users here (a receive-only service cannot)."""
        return self.token.claims is not None and (
            self.destination.target is not None
            or self.returns.param is not None
            or self.returns.default is not None
        )

    def prepare(self, query: str) -> Pending:
        """Check a login request's own parameters, before anyone is asked who the user is."""
        url, echoed = self.returns.resolve(query)
        if url is None and self.destination.target is None:
            raise RedirectMissing()
        return Pending(url, echoed)

    def build_claims(self, principal: Principal) -> dict[str, Any]:
        """The service's claims for ``principal`` (without ``iat``/``exp``/``jti``)."""
        builder = self.token.claims
        if builder is None:
            raise ConfigurationError(f"service {self.name!r} only receives: it has no claim builder.")
        claims = dict(builder(principal))
        reserved = _RESERVED.intersection(claims)
        if reserved:
            raise ConfigurationError(
                f"service {self.name!r}: the claim builder returned {sorted(reserved)}; "
                "iat, exp and jti are added by the issuer."
            )
        return claims

    def sign_in(self, pending: Pending, principal: Principal, now: float) -> Reply:
        """Sign a fresh token for ``principal`` and the reply that delivers it."""
        claims = self.build_claims(principal)
        claims["iat"] = int(now)
        claims["exp"] = int(now) + self.token.ttl
        claims["jti"] = secrets.token_urlsafe(16)
        try:
            token = sign(claims, self.keys.signing, typ=self.token.typ)
        except (TypeError, ValueError) as e:
            raise ConfigurationError(f"service {self.name!r}: {_not_json(claims)}") from e
        destination, forward = self.destination, self.returns.forward_as
        if destination.target is None:  # prepare() guarantees a return URL here
            return destination.placement.deliver(pending.return_url or "", token, ())
        params = list(pending.echoed)
        if forward and pending.return_url:
            params.append((forward, pending.return_url))
        return destination.placement.deliver(destination.target, token, params)

    def __repr__(self) -> str:
        target = self.destination.target or self.destination.path or "return URL"
        return f"<Service {self.name!r} {self.destination.placement!r} -> {target}>"


def generic(
    *,
    name: str,
    key: KeyInput,
    token: TokenRules,
    destination: Destination,
    returns: ReturnRules | None = None,
) -> Service:
    """Any service with the usual JWT-SSO pattern, from the three value objects.

    >>> svc = generic(name="docs", key="a-secret-of-at-least-thirty-two-bytes!",
    ...               token=TokenRules(claims=lambda u: {"sub": str(u.id), "email": u.email}),
    ...               destination=Destination("https://docs.example.com/authcallback"))
    >>> svc.destination.placement
    QueryParameter('token')
    """
    return Service(name=name, key=key, token=token, destination=destination, returns=returns)


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
    >>> svc.returns.default
    'https://feedback.acme.com/'
    """
    allowed = AllowedHosts(hosts, field=f"service {name!r}: hosts")
    first = allowed.first()
    return Service(
        name=name,
        key=key,
        token=TokenRules.requiring("email", "id", "name", identity=("id",), ttl=ttl, max_age=ttl),
        destination=Destination(placement=QueryParameter("ssoToken")),
        returns=ReturnRules(
            "redirect", hosts=allowed,
            default=default_redirect or (f"https://{first}/" if first is not None else None),
        ),
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
    >>> svc.destination.target
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
        token=TokenRules(
            claims=lambda user: {"sub": customer(user), "iss": issuer},
            required=("sub", "iss"), identity=("sub",), ttl=ttl,
        ),
        destination=Destination(f"{base_url.rstrip('/')}/login/{TOKEN}", PathSegment()),
    )


def zendesk(*, key: KeyInput, subdomain: str, hosts: Iterable[str] = (), name: str = "zendesk",
            ttl: int = 180) -> Service:
    """Zendesk: ``name``/``email`` claims POSTed (field ``jwt``) to ``/access/jwt``.

    Zendesk's ``return_to`` is forwarded when it is on ``hosts`` (by default
    ``{subdomain}.zendesk.com``).

    >>> zendesk(key="a-secret-of-at-least-thirty-two-bytes!", subdomain="acme").destination.placement
    FormField('jwt')
    """
    if not isinstance(subdomain, str) or not _LABEL.fullmatch(subdomain):
        raise ConfigurationError(f"service {name!r}: subdomain must be your Zendesk subdomain.")
    return Service(
        name=name,
        key=key,
        token=TokenRules.requiring(
            "name", "email", extra=lambda u: {"external_id": str(u.id)}, identity=("email",), ttl=ttl
        ),
        destination=Destination(f"https://{subdomain}.zendesk.com/access/jwt", FormField("jwt")),
        returns=ReturnRules("return_to", hosts=list(hosts) or [f"{subdomain}.zendesk.com"],
                            forward_as="return_to"),
    )


def canny(*, key: KeyInput, hosts: Iterable[str] = ("canny.io", "*.canny.io"),
          name: str = "canny", ttl: int = 300) -> Service:
    """Canny: ``email``, ``id``, ``name``; ``/api/redirects/sso?companyID=&ssoToken=&redirect=``.

    >>> canny(key="a-secret-of-at-least-thirty-two-bytes!").returns.echo
    ('companyID',)
    """
    return Service(
        name=name,
        key=key,
        token=TokenRules.requiring("email", "id", "name", identity=("id",), ttl=ttl),
        destination=Destination("https://canny.io/api/redirects/sso", QueryParameter("ssoToken")),
        returns=ReturnRules("redirect", hosts=hosts, forward_as="redirect", echo=("companyID",)),
    )


def featurebase(*, key: KeyInput, organization: str, hosts: Iterable[str] = (),
                name: str = "featurebase", ttl: int = 300) -> Service:
    """Featurebase: ``…/api/v1/auth/access/jwt?jwt=&return_to=``.

    >>> featurebase(key="a-secret-of-at-least-thirty-two-bytes!", organization="acme").destination.placement
    QueryParameter('jwt')
    """
    if not isinstance(organization, str) or not _LABEL.fullmatch(organization):
        raise ConfigurationError(f"service {name!r}: organization must be your Featurebase subdomain.")
    host = f"{organization}.featurebase.app"
    return Service(
        name=name,
        key=key,
        token=TokenRules.requiring(
            "email", "name", extra=lambda u: {"userId": str(u.id)}, identity=("userId",), ttl=ttl
        ),
        destination=Destination(f"https://{host}/api/v1/auth/access/jwt", QueryParameter("jwt")),
        returns=ReturnRules("return_to", hosts=list(hosts) or [host], forward_as="return_to"),
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
    >>> svc.destination.target, svc.token.algorithm
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
        token=TokenRules(claims=claims or default_claims, required=("email",), identity=("email",),
                         algorithm="HS512", ttl=ttl),
        destination=Destination(f"{site.rstrip('/')}/authcallback"),
        returns=ReturnRules("returnTo", forward_as="returnTo", relative=True),
    )


__all__ = [
    "ClaimBuilder",
    "Destination",
    "FormField",
    "PathSegment",
    "Pending",
    "QueryParameter",
    "ReturnRules",
    "Service",
    "TokenRules",
    "canny",
    "featurebase",
    "frill",
    "generic",
    "helpscout",
    "invoiced",
    "need",
    "zendesk",
]
