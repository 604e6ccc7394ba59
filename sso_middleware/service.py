"""Service: one destination's configuration, as three value objects (the presets are in
:mod:`sso_middleware.services`).

A service is described by what its token says (:class:`TokenRules`), where the
token goes (:class:`Destination`: a target URL and a placement), and where the
browser comes back from and may go (:class:`ReturnRules`). The same
description tells a ``VerifierMiddleware`` how to receive like that service.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .errors import BadRequest, ConfigurationError, MissingClaim, RedirectMissing, RedirectNotAllowed
from .keys import ALGORITHMS, HMAC_ALGORITHMS, Key, KeyInput, KeySet
from .messages import Reply, parse_query
from .placements import TOKEN, Placement, QueryParameter, TokenEndpoint, check_param
from .principal import Principal
from .redirects import AllowedHosts, check_url, host_key, safe_relative_path
from .tokens import TokenPolicy, check_seconds, json_value

ClaimBuilder = Callable[[Principal], Mapping[str, Any]]
ExtraClaims = Mapping[str, Any] | Callable[[Principal], Mapping[str, Any]]
"""Claims added to a preset's: a mapping, or a ``callable(Principal) -> mapping``."""
TenantKey = Callable[[Principal], Any]
"""A key chosen per user: ``callable(Principal) -> secret`` (one board, one key, per customer)."""
TenantHosts = Callable[[Principal], Iterable[str]]
"""Hosts chosen per user: ``callable(Principal) -> ["acme.frill.co", ...]``."""

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_TYP = re.compile(r"[A-Za-z0-9_.~+-]{1,64}")
_RESERVED = frozenset({"iat", "exp", "jti"})
_SIGNER_HEADER = ("alg", "kid", "typ", "crit", "b64")  # header members `header` may not set
_MAX_COPY = 256
_SAFE_VALUE = re.compile(r"[A-Za-z0-9\-._~+/=:,;@!$*]{1,512}")  # echoed or copied request values
_TENANT_CACHE = 1024  # resolved per-tenant keys and host lists kept, each validated once


def optional(principal: Principal, field: str) -> Any:
    """``principal.<field>`` (or that attribute), ``None`` when it is empty."""
    try:
        return need(principal, field)
    except MissingClaim:
        return None


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
    :param algorithm: ``HS256``, ``HS384``, ``HS512`` (a shared secret), or ``RS256``, ``PS256``,
        ``ES256``, ``EdDSA``, ... (a key pair, whose public half the issuer publishes).
    :param ttl: the token's lifetime in whole seconds (1 to 86400).
    :param typ: the ``typ`` header; a distinct one (``"app-b+jwt"``) lets a receiver
        configured with ``typ=`` refuse tokens minted for anything else.
    :param max_age: a receiver accepts a token with ``iat`` but no ``exp`` this long.
    :param extra: claims merged over ``claims``: a mapping, or a ``callable(Principal) -> mapping``
        (the service's documented optional claims: avatars, companies, groups, ...). They may
        not set ``iat``, ``exp``, ``jti`` or an ``identity`` claim.
    :param expiry_optional: the service itself accepts tokens that never expire; a receiver
        standing in for it does too (unless built with ``strict=True``).
    :param min_key_length: the shortest key not warned about, where the service issues keys of
        a fixed length (default: the hash's output size, RFC 7518 3.2).
    :param header: JWS header members beside ``alg``, ``kid`` and ``typ`` (Tableau's ``iss``).
    :param audience: the ``aud`` a receiver standing in for this service requires.
    :param issuer: the ``iss`` a receiver standing in for this service requires (UserJot's
        project id); ``None`` accepts any, as most services do.
    :param session: ``(claim, seconds)``: a claim stamped with now + ``seconds`` (Mintlify's
        ``expiresAt``, when the docs session it opens ends).
    :param max_lifetime: the longest validity the service accepts, in seconds (Tableau: 600). A
        longer ``ttl`` is refused here, and a receiver standing in for the service refuses a
        token valid for longer, as the service would.
    :param iat_in_ms: ``iat`` counts milliseconds since the epoch (Helpjuice), not seconds;
        ``exp`` stays in seconds (RFC 7519), and a receiver reads ``iat`` the same way.

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
    extra: ExtraClaims | None = None
    expiry_optional: bool = False
    min_key_length: int | None = None
    header: Mapping[str, str] = field(default_factory=dict)
    audience: str | None = None
    issuer: str | None = None
    session: tuple[str, int] | None = None
    max_lifetime: int | None = None
    iat_in_ms: bool = False

    def __post_init__(self) -> None:
        if self.claims is not None and not callable(self.claims):
            raise ConfigurationError("claims must be a callable(Principal) -> dict.")
        _check_algorithm(self.algorithm)
        self._check_lifetime()
        _check_typ(self.typ)
        if self.max_age is not None:
            check_seconds(self.max_age, "max_age")
        self._freeze_names()
        object.__setattr__(self, "header", _checked_header(self.header))
        self._check_session()
        self._freeze_extra()

    def _check_lifetime(self) -> None:
        """``ttl`` in whole seconds, no longer than the service's ``max_lifetime``."""
        if isinstance(self.ttl, bool) or not isinstance(self.ttl, int) or not 0 < self.ttl <= 86400:
            raise ConfigurationError("ttl must be whole seconds between 1 and 86400.")
        if self.max_lifetime is not None:
            check_seconds(self.max_lifetime, "max_lifetime")
            if self.ttl > self.max_lifetime:
                raise ConfigurationError(f"ttl {self.ttl}: the service refuses tokens valid for more than "
                                         f"{self.max_lifetime} seconds.")

    def _freeze_names(self) -> None:
        """``required`` and ``identity`` as tuples, naming at least one identity claim."""
        object.__setattr__(self, "required", tuple(self.required))
        object.__setattr__(self, "identity", tuple(self.identity))
        if not self.identity:
            raise ConfigurationError("identity: name at least one claim, e.g. ('sub', 'id').")

    def _check_session(self) -> None:
        """``session`` names a claim of the service's own (not iat, exp, jti or an identity claim)
        and a positive whole number of seconds."""
        if self.session is None:
            return
        claim, seconds = self.session
        if not isinstance(claim, str) or claim in self.reserved or isinstance(seconds, bool) or not (
            isinstance(seconds, int) and seconds > 0
        ):
            raise ConfigurationError("session: (claim name, whole seconds), e.g. ('expiresAt', 1209600).")

    def _freeze_extra(self) -> None:
        """A mapping ``extra`` checked and frozen now; a callable one is checked on each use."""
        if isinstance(self.extra, Mapping):
            object.__setattr__(self, "extra", MappingProxyType(dict(self._checked_extra(self.extra))))
        elif self.extra is not None and not callable(self.extra):
            raise ConfigurationError(
                "extra_claims must be a mapping or a callable(Principal) -> mapping, not "
                f"{type(self.extra).__name__}."
            )

    @property
    def reserved(self) -> frozenset[str]:
        """Claims ``extra`` may not set: the issuer's own and the user's identity."""
        return _RESERVED.union(self.identity)

    def _checked_extra(self, extra: object) -> Mapping[str, Any]:
        if not isinstance(extra, Mapping) or not all(isinstance(name, str) for name in extra):
            raise ConfigurationError(
                f"extra_claims returned a {type(extra).__name__}; return a dict of claim names to values."
            )
        clash = self.reserved.intersection(extra)
        if clash:
            raise ConfigurationError(
                f"extra_claims sets {sorted(clash)}: iat, exp and jti are the issuer's, and "
                f"{', '.join(self.identity)} names the user; change the Principal instead."
            )
        try:
            json.dumps(dict(extra), allow_nan=False, default=json_value)
        except (TypeError, ValueError) as e:
            raise ConfigurationError(f"extra_claims: {_not_json(extra)}") from e
        return extra

    def build(self, principal: Principal) -> dict[str, Any]:
        """The claims for ``principal`` (without ``iat``/``exp``/``jti``), ``extra`` merged over."""
        if self.claims is None:
            raise ConfigurationError("this service only receives: it has no claim builder.")
        claims = dict(self.claims(principal))
        reserved = _RESERVED.intersection(claims)
        if reserved:
            raise ConfigurationError(
                f"the claim builder returned {sorted(reserved)}; iat, exp and jti are added by the issuer."
            )
        extra = self.extra
        if isinstance(extra, Mapping):
            claims.update(extra)
        elif extra is not None:
            claims.update(self._checked_extra(extra(principal)))
        return claims

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


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise ConfigurationError(
            f"algorithm {algorithm!r} is not supported; use one of {', '.join(sorted(ALGORITHMS))}."
        )


def _check_typ(typ: str | None) -> None:
    if typ is not None and not (isinstance(typ, str) and _TYP.fullmatch(typ)):
        raise ConfigurationError(f"typ {typ!r} is not a media type name.")


def _checked_header(header: Mapping[str, str]) -> Mapping[str, str]:
    """Extra JWS header members, frozen: strings, none of them one the signer sets or one that
    changes how the signature is read."""
    if not isinstance(header, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and k not in _SIGNER_HEADER for k, v in header.items()
    ):
        raise ConfigurationError("header: a mapping of extra header names to strings (not alg, kid, "
                                 "typ, crit or b64).")
    return MappingProxyType(dict(header))


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the token goes: a target URL and a :mod:`placement <sso_middleware.placements>`.

    ``target=None`` sends the token back on the validated return URL (Frill);
    a receiver then accepts it on any page. ``path`` is for receivers only: it
    names the path they listen on when there is no target.

    :param target: absolute https URL (http only for loopback hosts), no credentials.
    :param placement: ``QueryParameter("token")`` (default), ``PathSegment()`` or ``FormField("jwt")``.
    :param path: the path a receiver listens on, when there is no target.

    >>> from sso_middleware.placements import PathSegment
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
    :param base: a relative return value is a page of this site (GitBook's ``location``): the
        browser goes to ``base`` + the checked path.
    :param copy: request parameters copied into the token, as ``{parameter: claim}``
        (Freshworks' ``nonce``); each is required. Echoed and copied values must be at most 512 (copied: 256)
        printable characters from ``A-Z a-z 0-9 - . _ ~ + / = : , ; @ ! $ *``; anything else
        is a 400 before anyone is asked who the user is.
    :param choices: the return value is one of these names, not a URL (Invoiced's page ids in
        ``redirect_to``), forwarded as it is under ``forward_as``; any other value is a 400.

    >>> ReturnRules("redirect", hosts=["fb.acme.com"]).resolve("redirect=https://fb.acme.com/b").return_url
    'https://fb.acme.com/b'
    """

    param: str | None = None
    hosts: AllowedHosts | Iterable[str] | TenantHosts = ()
    forward_as: str | None = None
    relative: bool = False
    default: str | None = None
    echo: tuple[str, ...] = ()
    base: str | None = None
    copy: Mapping[str, str] = field(default_factory=dict)
    choices: frozenset[str] | Iterable[str] = frozenset()
    tenant_hosts: TenantHosts | None = field(init=False, default=None)
    names: tuple[str, ...] = field(init=False, default=())
    """The request parameters read: the return parameter, echoed and copied ones."""

    def __post_init__(self) -> None:
        self._freeze_parameters()
        self._split_hosts()
        self._check_base()
        if self.default is not None and host_key(self.default) is None:
            raise ConfigurationError(f"default {self.default!r} must be an absolute https URL.")
        object.__setattr__(self, "choices", _choices(self.choices, self.forward_as))
        if self.relative and self.forward_as is None and self.base is None:
            raise ConfigurationError(
                "relative return values need forward_as (the path is passed on to the service) "
                "or base (the path is a page of that site)."
            )

    def _freeze_parameters(self) -> None:
        """The request parameters read (return, echoed, copied), each checked, and ``names``."""
        for label, name in (("return param", self.param), ("forward_as", self.forward_as)):
            if name is not None:
                check_param(name, label)
        echo = tuple(check_param(name, "echo") for name in self.echo)
        object.__setattr__(self, "echo", echo)
        copy = _checked_copy(self.copy)
        object.__setattr__(self, "copy", MappingProxyType(copy))
        object.__setattr__(self, "names", tuple(n for n in (self.param, *echo, *copy) if n))

    def _split_hosts(self) -> None:
        """``hosts`` as matchers, or a callable kept apart as ``tenant_hosts`` (no host listed)."""
        if callable(self.hosts) and not isinstance(self.hosts, AllowedHosts):
            object.__setattr__(self, "tenant_hosts", self.hosts)
            object.__setattr__(self, "hosts", AllowedHosts(()))
        elif not isinstance(self.hosts, AllowedHosts):
            object.__setattr__(self, "hosts", AllowedHosts(self.hosts))

    def _check_base(self) -> None:
        """``base`` a site's https URL without its last slash, and ``default`` its home page."""
        if self.base is None:
            return
        if not isinstance(self.base, str) or host_key(self.base) is None or "?" in self.base:
            raise ConfigurationError(f"base {self.base!r} must be a site's https URL, e.g. 'https://docs.acme.com'.")
        object.__setattr__(self, "base", self.base.rstrip("/"))
        if self.default is None:
            object.__setattr__(self, "default", self.base + "/")

    def resolve(self, query: str) -> Pending:
        """The checked return value, echoed parameters and copied values of a login request."""
        names = self.names
        params = parse_query(query, names) if names else {}
        value = params.get(self.param or "")
        url = self.check(value) if value else self.default
        if not (self.echo or self.copy):  # most services: nothing more to read
            return Pending(url, ())
        echoed = tuple((name, params[name]) for name in self.echo if name in params)
        for name in self.copy:
            if not params.get(name):  # the service always sends it (Freshworks' nonce)
                raise BadRequest(detail=f"the login request has no {name}")
        copied = tuple((claim, params[name]) for name, claim in self.copy.items())
        for _, found in (*echoed, *copied):
            if not _SAFE_VALUE.fullmatch(found):
                raise BadRequest(detail="an echoed or copied parameter is too long or has unsafe characters")
        if any(len(found) > _MAX_COPY for _, found in copied):
            raise BadRequest(detail="a copied parameter is too long")
        return Pending(url, echoed, copied)

    def check(self, value: str) -> str:
        """``value`` if the browser may be sent (or it may be forwarded) there. Per-tenant hosts
        are checked once the user is known (:meth:`check_tenant`); here only the URL's form."""
        if self.choices:
            if value not in self.choices:
                raise BadRequest("This service has no page by that name.",
                                 detail=f"{self.param} is not one of the service's pages")
            return value
        if self.relative:
            path = safe_relative_path(value)
            if path is None:
                raise RedirectNotAllowed(detail="not a same-site path")
            return path if self.base is None else self.base + path
        return check_url(value, _ANY_HOST if self.tenant_hosts else self.hosts)  # type: ignore[arg-type]

    def check_tenant(self, url: str | None, principal: Principal, where: str) -> None:
        """Refuse a return URL outside the hosts the tenant callable gives for ``principal``."""
        if self.tenant_hosts is None or url is None or self.relative:
            return
        check_url(url, _tenant_hosts(self.tenant_hosts, principal, where))


def _checked_copy(copy: object) -> dict[str, str]:
    """``{parameter: claim}``, each a plain name, no claim one the issuer sets."""
    if not isinstance(copy, Mapping):
        raise ConfigurationError(
            "copy: a mapping of request parameters to claims, e.g. {'nonce': 'nonce'}."
        )
    checked = {check_param(name, "copy"): check_param(claim, "copy: claim") for name, claim in copy.items()}
    if _RESERVED.intersection(checked.values()):
        raise ConfigurationError("copy: iat, exp and jti are the issuer's own claims.")
    return checked


def _choices(choices: object, forward_as: str | None) -> frozenset[str]:
    """The names a return value may be (each a plain word), forwarded under ``forward_as``."""
    if not isinstance(choices, Iterable):
        raise ConfigurationError("choices: a list of names, e.g. ['invoices', 'payments'].")
    listed: frozenset[Any] = frozenset([choices] if isinstance(choices, str) else choices)
    if not all(isinstance(name, str) and _SAFE_VALUE.fullmatch(name) for name in listed):
        raise ConfigurationError("choices: names such as 'invoices', each a plain word.")
    if listed and forward_as is None:
        raise ConfigurationError("choices: a chosen name is passed on to the service; set forward_as.")
    return listed


class _AnyHost(AllowedHosts):
    """Every host: the form of a per-tenant return URL is checked before the user is known."""

    __slots__ = ()

    def __contains__(self, host: object) -> bool:
        return isinstance(host, str)


_ANY_HOST = _AnyHost(())


def _remember(cache: dict[Any, Any], key: Any, build: Callable[[], Any]) -> Any:
    """``cache[key]``, built (and so validated) once; the oldest entry goes past the bound."""
    found = cache.get(key)
    if found is None:
        found = cache[key] = build()
        if len(cache) > _TENANT_CACHE:
            del cache[next(iter(cache))]
    return found


_HOSTS_SEEN: dict[Any, AllowedHosts] = {}


def _tenant_hosts(hosts: TenantHosts, principal: Principal, where: str) -> AllowedHosts:
    listed = hosts(principal)
    if isinstance(listed, str) or not isinstance(listed, Iterable):
        raise ConfigurationError(f"{where}: hosts(user) must return a list of host names.")
    patterns = tuple(listed)
    built: AllowedHosts = _remember(
        _HOSTS_SEEN, patterns, lambda: AllowedHosts(patterns, field=f"{where}: hosts(user)")
    )
    return built


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
class PageFetch:
    """The same token also handed, in JSON, to the signed-in user's own page scripts (a
    widget's or an SDK's), beside the redirect login, which keeps working.

    The answer goes to same-origin requests only (no CORS), is never cached, and an anonymous
    visitor gets a ``401`` in JSON, never a redirect: it is the token endpoint's contract.

    :param placement: the JSON answer: ``TokenEndpoint()`` is ``{"token": …, "expires_at": …}``.
    :param when: ``None``: answered at ``{prefix}/{name}/token`` (Frill's, Canny's and
        Featurebase's widgets); a ``(parameter, value)`` pair: answered on the login path itself
        when the query carries it (Metabase's SDK sends ``?response=json``).

    >>> PageFetch().when is None
    True
    """

    placement: Placement = field(default_factory=TokenEndpoint)
    when: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.placement, Placement) or not self.placement.fetched:
            raise ConfigurationError("PageFetch: a placement the page fetches, e.g. TokenEndpoint().")
        if self.when is not None:
            name, value = self.when
            check_param(name, "PageFetch: when")
            if not isinstance(value, str) or not _SAFE_VALUE.fullmatch(value):
                raise ConfigurationError("PageFetch: when=('response', 'json'), a parameter and its value.")


@dataclass(frozen=True, slots=True)
class Pending:
    """A login request that passed every check but the user's: where to return, what to echo,
    and what the service asked to have copied into the token (Discourse's nonce)."""

    return_url: str | None
    echoed: tuple[tuple[str, str], ...]
    copied: tuple[tuple[str, str], ...] = ()


def _check_name(name: str) -> str:
    """``name`` as a URL path segment; how messages about the service begin."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"service name {name!r}: use lower-case letters, digits, '-' or '_' "
            "(it becomes a URL path segment)."
        )
    return f"service {name!r}"


def _check_parts(where: str, token: TokenRules, destination: Destination,
                 returns: ReturnRules | None) -> None:
    """Each of the three value objects is one, so a dict or a keyword mix-up fails here."""
    for label, value, kind in (("token", token, TokenRules), ("destination", destination, Destination),
                               ("returns", returns or ReturnRules(), ReturnRules)):
        if not isinstance(value, kind):
            raise ConfigurationError(
                f"{where}: {label} must be a {kind.__name__}(...) from sso_middleware.services."
            )


def _check_per_user_key(where: str, token: TokenRules) -> None:
    """A key chosen per user is a shared secret: a key pair's public half is published up front."""
    if token.algorithm not in HMAC_ALGORITHMS:
        raise ConfigurationError(
            f"{where}: a key chosen per user cannot be published in the JWKS; {token.algorithm} "
            "services take their key pair (or a list, newest first) up front."
        )


def _check_way_back(where: str, destination: Destination, returns: ReturnRules) -> None:
    """Somewhere for the browser to go: a target, or a return value it can be sent to."""
    if returns.relative and destination.target is None and returns.base is None:
        raise ConfigurationError(f"{where}: a relative return value is forwarded to a target; set one.")
    if destination.target is None and destination.path is None:
        _check_return_only(where, returns)


def _check_return_only(where: str, returns: ReturnRules) -> None:
    """With no target, the browser goes where the return value (or the default) says."""
    if (returns.param is not None and not returns.hosts and not returns.relative
            and returns.tenant_hosts is None):
        raise ConfigurationError(
            f"{where}: hosts is empty, so no return URL could ever be accepted. List the "
            "service's hosts, e.g. ReturnRules('redirect', hosts=['feedback.acme.com'])."
        )
    if returns.param is None and returns.default is None:
        raise ConfigurationError(
            f"{where}: set a Destination target, or a ReturnRules param with hosts, so "
            "the browser has somewhere to go."
        )


class Service:
    """How to sign a user in to one service, and how that service receives them.

    :param name: the login path's last segment (``/sso/{name}``).
    :param key: the service's secret (str taken as UTF-8 bytes), or a list, newest first.
    :param token: what the token says (:class:`TokenRules`).
    :param destination: where it goes (:class:`Destination`).
    :param returns: where the browser comes back from and may go (:class:`ReturnRules`).
    :param page_fetch: the same token also answered in JSON to the user's own pages
        (:class:`PageFetch`: widgets, SDKs), beside the redirect.

    ``key`` may be a ``callable(Principal) -> secret`` and ``ReturnRules.hosts`` a
    ``callable(Principal) -> hosts`` for apps with one board per customer: each is
    resolved when a user signs in, validated the first time a value is seen (a bad one is
    a logged configuration error), and remembered. Such a service only issues; a receiver
    needs its key up front.

    >>> svc = Service(name="board", key="a-secret-of-at-least-thirty-two-bytes!",
    ...               token=TokenRules(claims=lambda u: {"sub": u.id}),
    ...               destination=Destination("https://board.example.com/sso"))
    >>> svc.destination.listen
    '/sso'
    """

    __slots__ = ("_key_source", "_tenant_keys", "_twin", "destination", "hint", "keys", "name", "page_fetch",
                 "returns", "token")

    def __init__(
        self,
        *,
        name: str,
        key: KeyInput | KeySet | TenantKey,
        token: TokenRules,
        destination: Destination,
        returns: ReturnRules | None = None,
        hint: str | None = None,
        page_fetch: PageFetch | None = None,
    ) -> None:
        where = _check_name(name)
        _check_parts(where, token, destination, returns)
        returns = returns or ReturnRules()
        self.name = name
        self.hint = hint
        """Why this service cannot issue, when it cannot (shown by the issuer)."""
        self._key_source: TenantKey | None = None
        self._tenant_keys: dict[Any, KeySet] = {}
        self.keys: KeySet | None = None
        """The service's keys; ``None`` when they are chosen per user (``key=callable``)."""
        if callable(key) and not isinstance(key, (Key, KeySet)):
            _check_per_user_key(where, token)
            self._key_source = key
        else:
            self.keys = KeySet.build(key, algorithm=token.algorithm, field=f"{where}: key",
                                     min_length=token.min_key_length)
        self.token = token
        self.destination = destination
        self.returns = returns
        _check_way_back(where, destination, returns)
        self.page_fetch = page_fetch
        self._twin: Service | None = self._fetch_twin(where, key, page_fetch)

    def _fetch_twin(self, where: str, key: KeyInput | KeySet | TenantKey,
                    page_fetch: PageFetch | None) -> Service | None:
        """The service answering ``page_fetch`` in JSON beside this redirect login, if any."""
        if page_fetch is None:
            return None
        if not isinstance(page_fetch, PageFetch) or self.fetched:
            raise ConfigurationError(f"{where}: page_fetch is a PageFetch(...) beside a redirect login.")
        return Service(name=self.name, key=self.keys if self.keys is not None else key, token=self.token,
                       destination=Destination(placement=page_fetch.placement, path="/"), hint=self.hint)

    @property
    def issues(self) -> bool:
        """Whether an issuer can send users here (a receive-only service cannot)."""
        return self.token.claims is not None and (
            self.destination.target is not None
            or self.returns.param is not None
            or self.returns.default is not None
            or self.destination.placement.starts  # the return URL comes inside the signed request
            or self.fetched
        )

    @property
    def fetched(self) -> bool:
        """Whether the page fetches the token (``{prefix}/{name}/token``) instead of a redirect."""
        return self.destination.placement.fetched

    def login_paths(self, prefix: str) -> dict[str, Service]:
        """The issuer's paths for this service: ``{prefix}/{name}`` (``/token`` after it for a
        service whose page fetches its token, and beside it for a :class:`PageFetch`)."""
        own = f"{prefix}/{self.name}"
        paths = {own + ("/token" if self.fetched else ""): self}
        if self._twin is not None and self.page_fetch is not None and self.page_fetch.when is None:
            paths[own + "/token"] = self._twin
        return paths

    def answering(self, query: str) -> Service:
        """The service that answers a login request with this query: this one, or its JSON
        twin when the page asks for it (:class:`PageFetch` ``when``)."""
        fetch, twin = self.page_fetch, self._twin
        if fetch is None or fetch.when is None or twin is None or fetch.when[0] not in query:
            return self
        name, value = fetch.when
        try:
            asked = parse_query(query, (name,)).get(name)
        except BadRequest:  # said twice: ambiguous, so the plain login (the token goes to the service)
            return self
        return twin if asked == value else self

    def prepare(self, query: str) -> Pending:
        """Check a login request's own parameters, before anyone is asked who the user is."""
        signed = self.destination.placement.inbound(query, self.keys)
        if signed is not None:  # the request is itself signed (Discourse): its return URL is inside
            value, copied = signed
            if not value:
                raise RedirectMissing()
            return Pending(self.returns.check(value), (), copied)
        pending = self.returns.resolve(query)
        if pending.return_url is None and self.destination.target is None and not self.fetched:
            raise RedirectMissing()
        return pending

    def build_claims(self, principal: Principal) -> dict[str, Any]:
        """The service's claims for ``principal`` (without ``iat``/``exp``/``jti``)."""
        try:
            return self.token.build(principal)
        except ConfigurationError as e:
            raise ConfigurationError(f"service {self.name!r}: {e.message}") from e

    def signing_keys(self, principal: Principal) -> KeySet:
        """The keys that sign for ``principal``: the service's, or its tenant's."""
        if self.keys is not None:
            return self.keys
        source, where = self._key_source, f"service {self.name!r}: key(user)"
        if source is None:  # unreachable: a service has keys or a key callable
            raise ConfigurationError(f"service {self.name!r} has no key.")
        value = source(principal)
        if value is None or value in ("", b""):
            raise ConfigurationError(f"{where} returned no key for this user.")
        cache_key = tuple(value) if isinstance(value, list) else value
        try:
            hash(cache_key)
        except TypeError as e:
            raise ConfigurationError(f"{where} must return a str, bytes, Key or a list of them.") from e
        keys: KeySet = _remember(self._tenant_keys, cache_key, lambda: KeySet.build(
            value, algorithm=self.token.algorithm, field=where, min_length=self.token.min_key_length))
        return keys

    def mint(self, principal: Principal, now: float, pending: Pending | None = None) -> str:
        """A fresh token for ``principal``: the service's claims, what the request asked to have
        copied in, and (for a JWT) ``iat``, ``exp`` and a random ``jti``."""
        claims = self.build_claims(principal)
        keys = self.signing_keys(principal)
        placement = self.destination.placement
        if pending is not None:
            claims.update(pending.copied)
        if placement.stamps:
            claims["iat"] = int(now * 1000) if self.token.iat_in_ms else int(now)
            claims["exp"] = int(now) + self.token.ttl
            claims["jti"] = secrets.token_urlsafe(16)
        if self.token.session is not None:
            claims[self.token.session[0]] = int(now) + self.token.session[1]
        try:
            return placement.encode(claims, keys.signing, self.token.typ, self.token.header)
        except (TypeError, ValueError) as e:
            raise ConfigurationError(f"service {self.name!r}: {_not_json(claims)}") from e

    def sign_in(self, pending: Pending, principal: Principal, now: float) -> Reply:
        """Sign a fresh token for ``principal`` and the reply that delivers it."""
        return self.issue(pending, principal, now)[1]

    def issue(self, pending: Pending, principal: Principal, now: float) -> tuple[str, Reply]:
        """:meth:`sign_in`, with the token itself too (``sso-middleware mint`` shows both)."""
        self.returns.check_tenant(pending.return_url, principal, f"service {self.name!r}")
        token = self.mint(principal, now, pending)
        return token, self.deliver(pending, token, int(now) + self.token.ttl)

    def deliver(self, pending: Pending, token: str, expires: int | None = None) -> Reply:
        """The reply that sends the browser, with ``token``, where ``pending`` says."""
        destination, forward = self.destination, self.returns.forward_as
        if destination.target is None:  # prepare() guarantees a return URL here (or a fetch)
            return destination.placement.deliver(pending.return_url or "", token, pending.echoed, expires)
        params = list(pending.echoed)
        if forward and pending.return_url:
            params.append((forward, pending.return_url))
        return destination.placement.deliver(destination.target, token, params, expires)

    def receiving_policy(
        self,
        *,
        algorithms: Iterable[str] | None = None,
        leeway: float = 30.0,
        max_lifetime: float = 86400.0,
        max_age: float | None = None,
        strict: bool = False,
        issuer: str | Iterable[str] | None = None,
        audience: str | None = None,
        typ: str | None = None,
        required_claims: Iterable[str] = (),
        identity: Iterable[str] | None = None,
        keys: KeySet | None = None,
    ) -> TokenPolicy:
        """What a receiver standing in for this service accepts (the ``VerifierMiddleware``
        options of the same names adjust it): the service's own rules unless ``strict``, with
        ``keys`` instead of the service's own when given (a JWKS verifier's)."""
        keys = keys if keys is not None else self.keys
        if keys is None:
            raise ConfigurationError(
                f"service {self.name!r}: its key is chosen per user (key=callable), which only an "
                "issuer can do; a receiver needs the key itself (key='...' or a list of keys)."
            )
        rules = self.token
        return TokenPolicy(
            keys,
            algorithms=frozenset(algorithms) if algorithms is not None else None,
            leeway=leeway,
            max_lifetime=min(max_lifetime, rules.max_lifetime or math.inf),
            max_age=rules.max_age if max_age is None else max_age,
            expiry_optional=rules.expiry_optional and not strict,
            issuer=_issuers(issuer if issuer is not None else rules.issuer),
            audience=audience if audience is not None else rules.audience,
            typ=typ,
            required=(*rules.required, *required_claims),
            identity=tuple(identity or rules.identity),
            iat_in_ms=rules.iat_in_ms,
        )

    def __repr__(self) -> str:
        target = self.destination.target or self.destination.path or "return URL"
        return f"<Service {self.name!r} {self.destination.placement!r} -> {target}>"


def _issuers(issuer: str | Iterable[str] | None) -> tuple[str, ...] | None:
    return (issuer,) if isinstance(issuer, str) else (tuple(issuer) if issuer is not None else None)


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


__all__ = [
    "ClaimBuilder",
    "Destination",
    "ExtraClaims",
    "PageFetch",
    "Pending",
    "ReturnRules",
    "Service",
    "TenantHosts",
    "TenantKey",
    "TokenRules",
    "generic",
    "need",
    "optional",
]
