"""Service: one destination's configuration, as three value objects, plus presets.

A service is described by what its token says (:class:`TokenRules`), where the
token goes (:class:`Destination`: a target URL and a placement), and where the
browser comes back from and may go (:class:`ReturnRules`). The same
description tells a ``VerifierMiddleware`` how to receive like that service.
"""

from __future__ import annotations

import inspect
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .errors import BadRequest, ConfigurationError, MissingClaim, RedirectMissing, RedirectNotAllowed
from .keys import Key, KeyInput, KeySet
from .messages import Reply, parse_query
from .placements import TOKEN, FormField, PathSegment, Placement, QueryParameter, SignedPayload, check_param
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
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_TYP = re.compile(r"[A-Za-z0-9_.~+-]{1,64}")
_RESERVED = frozenset({"iat", "exp", "jti"})
_MAX_ECHO = 512
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
    :param algorithm: ``HS256``, ``HS384`` or ``HS512``.
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
    :param base: a relative return value is a page of this site (GitBook's ``location``): the
        browser goes to ``base`` + the checked path.

    >>> ReturnRules("redirect", hosts=["fb.acme.com"]).resolve("redirect=https://fb.acme.com/b")
    ('https://fb.acme.com/b', ())
    """

    param: str | None = None
    hosts: AllowedHosts | Iterable[str] | TenantHosts = ()
    forward_as: str | None = None
    relative: bool = False
    default: str | None = None
    echo: tuple[str, ...] = ()
    base: str | None = None
    tenant_hosts: TenantHosts | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        for label, name in (("return param", self.param), ("forward_as", self.forward_as)):
            if name is not None:
                check_param(name, label)
        echo = tuple(check_param(name, "echo") for name in self.echo)
        object.__setattr__(self, "echo", echo)
        if callable(self.hosts) and not isinstance(self.hosts, AllowedHosts):
            object.__setattr__(self, "tenant_hosts", self.hosts)
            object.__setattr__(self, "hosts", AllowedHosts(()))
        elif not isinstance(self.hosts, AllowedHosts):
            object.__setattr__(self, "hosts", AllowedHosts(self.hosts))
        if self.base is not None:
            if not isinstance(self.base, str) or host_key(self.base) is None or "?" in self.base:
                raise ConfigurationError(f"base {self.base!r} must be a site's https URL, e.g. 'https://docs.acme.com'.")
            object.__setattr__(self, "base", self.base.rstrip("/"))
            if self.default is None:
                object.__setattr__(self, "default", self.base + "/")
        if self.default is not None and host_key(self.default) is None:
            raise ConfigurationError(f"default {self.default!r} must be an absolute https URL.")
        if self.relative and self.forward_as is None and self.base is None:
            raise ConfigurationError(
                "relative return values need forward_as (the path is passed on to the service) "
                "or base (the path is a page of that site)."
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
        """``value`` if the browser may be sent (or it may be forwarded) there. Per-tenant hosts
        are checked once the user is known (:meth:`check_tenant`); here only the URL's form."""
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
class Pending:
    """A login request that passed every check but the user's: where to return, what to echo,
    and what the service asked to have copied into the token (Discourse's nonce)."""

    return_url: str | None
    echoed: tuple[tuple[str, str], ...]
    copied: tuple[tuple[str, str], ...] = ()


class Service:
    """How to sign a user in to one service, and how that service receives them.

    :param name: the login path's last segment (``/sso/{name}``).
    :param key: the service's secret (str taken as UTF-8 bytes), or a list, newest first.
    :param token: what the token says (:class:`TokenRules`).
    :param destination: where it goes (:class:`Destination`).
    :param returns: where the browser comes back from and may go (:class:`ReturnRules`).

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

    __slots__ = ("_key_source", "_tenant_keys", "destination", "hint", "keys", "name", "returns", "token")

    def __init__(
        self,
        *,
        name: str,
        key: KeyInput | KeySet | TenantKey,
        token: TokenRules,
        destination: Destination,
        returns: ReturnRules | None = None,
        hint: str | None = None,
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
        self.hint = hint
        """Why this service cannot issue, when it cannot (shown by the issuer)."""
        self._key_source: TenantKey | None = None
        self._tenant_keys: dict[Any, KeySet] = {}
        self.keys: KeySet | None = None
        """The service's keys; ``None`` when they are chosen per user (``key=callable``)."""
        if callable(key) and not isinstance(key, (Key, KeySet)):
            self._key_source = key
        else:
            self.keys = KeySet.build(key, algorithm=token.algorithm, field=f"{where}: key",
                                     min_length=token.min_key_length)
        self.token = token
        self.destination = destination
        self.returns = returns
        if returns.relative and destination.target is None and returns.base is None:
            raise ConfigurationError(f"{where}: a relative return value is forwarded to a target; set one.")
        if destination.target is None and destination.path is None:
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

    @property
    def issues(self) -> bool:
        """Whether an issuer can send users here (a receive-only service cannot)."""
        return self.token.claims is not None and (
            self.destination.target is not None
            or self.returns.param is not None
            or self.returns.default is not None
            or self.destination.placement.starts  # the return URL comes inside the signed request
        )

    def prepare(self, query: str) -> Pending:
        """Check a login request's own parameters, before anyone is asked who the user is."""
        signed = self.destination.placement.inbound(query, self.keys)
        if signed is not None:  # the request is itself signed (Discourse): its return URL is inside
            value, copied = signed
            if not value:
                raise RedirectMissing()
            return Pending(self.returns.check(value), (), copied)
        url, echoed = self.returns.resolve(query)
        if url is None and self.destination.target is None:
            raise RedirectMissing()
        return Pending(url, echoed)

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
            claims["iat"] = int(now)
            claims["exp"] = int(now) + self.token.ttl
            claims["jti"] = secrets.token_urlsafe(16)
        try:
            return placement.encode(claims, keys.signing, self.token.typ)
        except (TypeError, ValueError) as e:
            raise ConfigurationError(f"service {self.name!r}: {_not_json(claims)}") from e

    def sign_in(self, pending: Pending, principal: Principal, now: float) -> Reply:
        """Sign a fresh token for ``principal`` and the reply that delivers it."""
        self.returns.check_tenant(pending.return_url, principal, f"service {self.name!r}")
        return self.deliver(pending, self.mint(principal, now, pending))

    def deliver(self, pending: Pending, token: str) -> Reply:
        """The reply that sends the browser, with ``token``, where ``pending`` says."""
        destination, forward = self.destination, self.returns.forward_as
        if destination.target is None:  # prepare() guarantees a return URL here
            return destination.placement.deliver(pending.return_url or "", token, ())
        params = list(pending.echoed)
        if forward and pending.return_url:
            params.append((forward, pending.return_url))
        return destination.placement.deliver(destination.target, token, params)

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
    ) -> TokenPolicy:
        """What a receiver standing in for this service accepts (the ``VerifierMiddleware``
        options of the same names adjust it): the service's own rules unless ``strict``."""
        if self.keys is None:
            raise ConfigurationError(
                f"service {self.name!r}: its key is chosen per user (key=callable), which only an "
                "issuer can do; a receiver needs the key itself (key='...' or a list of keys)."
            )
        rules = self.token
        return TokenPolicy(
            self.keys,
            algorithms=frozenset(algorithms) if algorithms is not None else None,
            leeway=leeway,
            max_lifetime=max_lifetime,
            max_age=rules.max_age if max_age is None else max_age,
            expiry_optional=rules.expiry_optional and not strict,
            issuer=(issuer,) if isinstance(issuer, str) else (tuple(issuer) if issuer is not None else None),
            audience=audience,
            typ=typ,
            required=(*rules.required, *required_claims),
            identity=tuple(identity or rules.identity),
        )

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


# -- presets: one function per vendor, each following that vendor's own documentation -------


def _fields(
    required: Iterable[tuple[str, str]] = (),
    optional_: Iterable[tuple[str, str]] = (),
    *,
    text: Iterable[str] = (),
) -> ClaimBuilder:
    """Claims copied from the principal, as ``(claim, field)`` pairs; ``text`` claims become strings."""
    needed, wanted, as_text = tuple(required), tuple(optional_), frozenset(text)

    def claims(user: Principal) -> dict[str, Any]:
        found = {claim: need(user, name) for claim, name in needed}
        for claim, name in wanted:
            value = optional(user, name)
            if value is not None:
                found[claim] = value
        return {k: str(v) if k in as_text else v for k, v in found.items()}

    return claims


def _label(value: object, name: str, what: str) -> str:
    """``value`` if it is one DNS label (a vendor subdomain such as ``acme``)."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise ConfigurationError(f"service {name!r}: {what}, e.g. 'acme'.")
    return value


def _site(value: object, name: str, what: str) -> str:
    """``value`` without its trailing slash, if it is an https URL with no query (a site or page)."""
    if not isinstance(value, str) or host_key(value) is None or "?" in value or "#" in value:
        raise ConfigurationError(f"service {name!r}: {what}.")
    return value.rstrip("/")


def _page(value: object, name: str, what: str) -> str:
    """A page's https URL as given; a bare site gets its root path (``https://acme.com/``)."""
    site = _site(value, name, what)
    return site + "/" if not urlsplit(site).path else str(value)


def _hosts(name: str, own: Iterable[str], hosts: Iterable[str] | TenantHosts) -> AllowedHosts | TenantHosts:
    """The vendor's own hosts plus yours (custom domains); per tenant, the vendor's plus the tenant's."""
    vendor = tuple(own)
    if callable(hosts):
        tenant = hosts
        return lambda user: [*vendor, *tenant(user)]
    field = f"service {name!r}: hosts"
    listed = hosts if isinstance(hosts, str) else list(hosts)
    AllowedHosts(listed, field=field)  # refuses a bare string and names your pattern, not ours
    return AllowedHosts([*vendor, *listed], field=field)


def _preset(
    *,
    name: str,
    key: KeyInput | TenantKey,
    claims: ClaimBuilder | None,
    identity: tuple[str, ...],
    ttl: int,
    extra_claims: ExtraClaims | None,
    destination: Destination,
    returns: ReturnRules | None = None,
    required: tuple[str, ...] = (),
    algorithm: str = "HS256",
    max_age: float | None = None,
    expiry_optional: bool = False,
    min_key_length: int | None = None,
    hint: str | None = None,
) -> Service:
    rules = TokenRules(
        claims=claims, required=required, identity=identity, algorithm=algorithm, ttl=ttl,
        max_age=max_age, extra=extra_claims, expiry_optional=expiry_optional,
        min_key_length=min_key_length,
    )
    return Service(name=name, key=key, token=rules, destination=destination, returns=returns, hint=hint)


def frill(
    *,
    key: KeyInput | TenantKey,
    hosts: Iterable[str] | TenantHosts,
    default_redirect: str | None = None,
    name: str = "frill",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Frill: ``email``, ``id``, ``name``; back to Frill's ``redirect`` with ``ssoToken`` added.

    Follows Frill's "Single Sign-On (SSO)" guide (https://help.frill.co, "SSO"): Frill sends
    the browser to ``/sso/frill?redirect=<board URL>``, which must be on ``hosts`` (your
    board's custom domain or ``acme.frill.co``); without one, ``default_redirect``, by
    default the root of the first host.

    ========  =========  ===========================================
    claim     required   from
    ========  =========  ===========================================
    email     yes        ``Principal.email``
    id        yes        ``Principal.id`` (type kept)
    name      yes        ``Principal.name``
    avatar    no         ``extra_claims`` (an image URL)
    ========  =========  ===========================================

    Lifetime: Frill's own PHP example signs no ``exp``; we add ``iat``/``exp`` (``ttl``) and
    ``jti``. A receiver standing in for Frill accepts tokens without ``exp``, as Frill does.

    >>> svc = frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["feedback.acme.com"])
    >>> svc.returns.default
    'https://feedback.acme.com/'
    """
    allowed = hosts if callable(hosts) else AllowedHosts(hosts, field=f"service {name!r}: hosts")
    first = None if callable(allowed) else allowed.first()
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("email", "email"), ("id", "id"), ("name", "name")]),
        required=("email", "id", "name"), identity=("id",), expiry_optional=True,
        destination=Destination(placement=QueryParameter("ssoToken")),
        returns=ReturnRules(
            "redirect", hosts=allowed,
            default=default_redirect or (f"https://{first}/" if first is not None else None),
        ),
    )


def invoiced(
    *,
    key: KeyInput | TenantKey,
    company: str | None = None,
    customer_id: str | Callable[[Principal], Any] | None = None,
    issuer: str = "sso_middleware",
    base_url: str | None = None,
    name: str = "invoiced",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Invoiced customer portal: ``sub`` (the Invoiced customer id), ``iss``, ``exp``.

    Follows Invoiced's "Single Sign-On" for the customer portal
    (https://developer.invoiced.com, "Single Sign-On"): ``sub`` is "the ID of the customer on
    Invoiced you are signing the user in as" (an integer in Invoiced's SDKs: its type is
    kept), ``iss`` any string, ``exp`` required. The browser goes to
    ``https://{company}.invoiced.com/login/{token}`` (or ``{base_url}/login/{token}``).

    ``customer_id`` is the name of a ``Principal`` attribute or a callable taking the
    ``Principal``. It is required to sign users in: your user id is not Invoiced's customer
    id. Without it the service can stand in for Invoiced (receive) but an issuer refuses it.

    >>> svc = invoiced(key="a-secret-of-at-least-thirty-two-bytes!", company="acme",
    ...                customer_id="invoiced_id")
    >>> svc.destination.target
    'https://acme.invoiced.com/login/{token}'
    """
    if base_url is None:
        base_url = "https://{}.invoiced.com".format(_label(
            company, name, "company must be your Invoiced subdomain (the 'acme' in acme.invoiced.com), "
            "or pass base_url='https://billing.acme.com'"))
    if not isinstance(issuer, str) or not issuer:
        raise ConfigurationError(f"service {name!r}: issuer must be a non-empty string.")
    if customer_id is not None and not callable(customer_id) and not isinstance(customer_id, str):
        raise ConfigurationError(
            f"service {name!r}: customer_id must be a Principal attribute name or a callable(Principal)."
        )

    def claims(user: Principal) -> dict[str, Any]:
        if callable(customer_id):
            value = customer_id(user)
            if value is None or value == "":
                raise MissingClaim("sub")
        else:
            value = need(user, customer_id or "")
        return {"sub": value, "iss": issuer}

    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=None if customer_id is None else claims, required=("sub", "iss"), identity=("sub",),
        destination=Destination(f"{_site(base_url, name, 'base_url must be an https URL')}/login/{TOKEN}",
                                PathSegment()),
        hint=None if customer_id is not None else (
            "services.invoiced needs customer_id=... to sign users in: the Invoiced customer id, "
            "e.g. customer_id='invoiced_id' (a Principal attribute) or "
            "customer_id=lambda user: user.attributes['invoiced_id']."
        ),
    )


def zendesk(
    *,
    key: KeyInput | TenantKey,
    subdomain: str,
    hosts: Iterable[str] | TenantHosts = (),
    name: str = "zendesk",
    ttl: int = 180,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Zendesk: ``name``/``email`` claims POSTed (field ``jwt``) to ``/access/jwt``.

    Follows "Enabling JWT single sign-on" and "Anatomy of a JWT request"
    (https://support.zendesk.com/hc/en-us/articles/203663816,
    https://support.zendesk.com/hc/en-us/articles/4408881965722) and Zendesk's Rails example:
    the token is POSTed by an auto-submitting form (GET is deprecated), and ``return_to``,
    ``brand_id``, ``locale_id`` and ``timestamp`` from Zendesk's request stay in the form's
    action URL. ``return_to`` must be on ``hosts``: ``{subdomain}.zendesk.com`` plus yours
    (brands and help centres on custom domains, e.g. ``["help.acme.com", "*.acme.com"]``).

    ================  =========  =====================================================
    claim             required   from
    ================  =========  =====================================================
    iat, jti          yes        added (Zendesk refuses an ``iat`` over 3 minutes old)
    name, email       yes        ``Principal.name``, ``Principal.email``
    external_id       no         ``Principal.id`` as a string
    organization,     no         ``extra_claims``
    tags, locale_id,
    remote_photo_url,
    user_fields
    ================  =========  =====================================================

    >>> zendesk(key="a-secret-of-at-least-thirty-two-bytes!", subdomain="acme").destination.placement
    FormField('jwt')
    """
    host = "{}.zendesk.com".format(_label(subdomain, name, "subdomain must be your Zendesk subdomain"))
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("name", "name"), ("email", "email")], [("external_id", "id")], text=["external_id"]),
        required=("name", "email", "iat", "jti"), identity=("email",), max_age=180,
        destination=Destination(f"https://{host}/access/jwt", FormField("jwt")),
        returns=ReturnRules("return_to", hosts=_hosts(name, [host], hosts), forward_as="return_to",
                            echo=("brand_id", "locale_id", "timestamp")),
    )


def canny(
    *,
    key: KeyInput | TenantKey,
    hosts: Iterable[str] | TenantHosts = (),
    name: str = "canny",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Canny: ``email``, ``id``, ``name``; ``canny.io/api/redirects/sso?companyID=&ssoToken=&redirect=``.

    Follows Canny's "Single Sign-On: redirect" guide (https://developers.canny.io/install/sso-redirect).
    Canny's ``redirect`` may point at ``canny.io`` or ``*.canny.io``, always, plus ``hosts``
    (your board's custom domain, e.g. ``["feedback.acme.com"]``); ``companyID`` is passed back.

    ==============  =========  ======================================
    claim           required   from
    ==============  =========  ======================================
    email, id,      yes        ``Principal.email``, ``.id``, ``.name``
    name
    avatarURL,      no         ``extra_claims``
    companies,
    customFields
    ==============  =========  ======================================

    Lifetime: ``exp`` is optional at Canny (its Node example signs only ``iat``); a stand-in
    for Canny accepts such tokens.

    >>> canny(key="a-secret-of-at-least-thirty-two-bytes!").returns.echo
    ('companyID',)
    """
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("email", "email"), ("id", "id"), ("name", "name")]),
        required=("email", "id", "name"), identity=("id",), expiry_optional=True,
        destination=Destination("https://canny.io/api/redirects/sso", QueryParameter("ssoToken")),
        returns=ReturnRules("redirect", hosts=_hosts(name, ["canny.io", "*.canny.io"], hosts),
                            forward_as="redirect", echo=("companyID",)),
    )


def featurebase(
    *,
    key: KeyInput | TenantKey,
    organization: str,
    hosts: Iterable[str] | TenantHosts = (),
    name: str = "featurebase",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Featurebase: ``…/api/v1/auth/access/jwt?jwt=&return_to=``.

    Follows Featurebase's "Single Sign-On (SSO)" guide (https://help.featurebase.app, "SSO"):
    one of ``email`` or ``userId`` identifies the user; ``return_to`` must be on
    ``{organization}.featurebase.app`` or ``hosts`` (your board's custom domain).

    ===============  =========  ===================================
    claim            required   from
    ===============  =========  ===================================
    userId           one of     ``Principal.id`` as a string
    email            the two    ``Principal.email``
    name             no         ``Principal.name``
    profilePicture,  no         ``extra_claims``
    companies, tags,
    locale, roles
    ===============  =========  ===================================

    >>> featurebase(key="a-secret-of-at-least-thirty-two-bytes!", organization="acme").destination.placement
    QueryParameter('jwt')
    """
    host = "{}.featurebase.app".format(_label(
        organization, name, "organization must be your Featurebase subdomain"))
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("userId", "id")], [("email", "email"), ("name", "name")], text=["userId"]),
        identity=("userId", "email"), expiry_optional=True,
        destination=Destination(f"https://{host}/api/v1/auth/access/jwt", QueryParameter("jwt")),
        returns=ReturnRules("return_to", hosts=_hosts(name, [host], hosts), forward_as="return_to"),
    )


def helpscout(
    *,
    key: KeyInput | TenantKey,
    site: str,
    claims: ClaimBuilder | None = None,
    name: str = "helpscout",
    ttl: int = 8 * 3600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Help Scout Docs restricted sites: HS512, ``{site}/authcallback?token=&returnTo=``.

    Follows "Restricted Docs" (https://developer.helpscout.com/docs-api/restricted-docs/):
    Help Scout sends ``returnTo`` as a relative path; it is checked to be one and passed back.
    ``exp`` is the reader's Docs *session* length (a short one sends readers back through
    ``/signin``), hence ``ttl`` of 8 hours. Help Scout issues 44-character secrets, which are
    used as they are and not warned about.

    =====  =========  ============================
    claim  required   from
    =====  =========  ============================
    sub    yes        ``Principal.email``
    name   no         ``Principal.name``
    exp    yes        the session's end (``ttl``)
    =====  =========  ============================

    >>> svc = helpscout(key="k" * 44, site="https://docs.acme.com")
    >>> svc.destination.target, svc.token.algorithm
    ('https://docs.acme.com/authcallback', 'HS512')
    """
    if not isinstance(site, str) or host_key(site) is None or site.rstrip("/").count("/") > 2:
        raise ConfigurationError(
            f"service {name!r}: site must be your Docs site's base URL, e.g. "
            "'https://docs.acme.com' or 'https://acme.helpscoutdocs.com'."
        )
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=claims or _fields([("sub", "email")], [("name", "name")]),
        required=("sub",), identity=("sub",), algorithm="HS512", min_key_length=44,
        destination=Destination(f"{site.rstrip('/')}/authcallback"),
        returns=ReturnRules("returnTo", forward_as="returnTo", relative=True),
    )


def uservoice(
    *,
    key: KeyInput | TenantKey,
    subdomain: str | None = None,
    portal: str | None = None,
    name: str = "uservoice",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """UserVoice: ``guid`` and ``email``, to ``https://{subdomain}.uservoice.com?sso=<token>``.

    Follows "Single Sign-On with JSON Web Tokens"
    (https://developer.uservoice.com/docs/single-sign-on/single-sign-on/): HS256 only;
    ``portal`` replaces the default address for a custom domain.

    =============  =========  =========================================
    claim          required   from
    =============  =========  =========================================
    guid           yes        ``Principal.id`` as a string (never the email)
    email          yes        ``Principal.email``
    display_name   no         ``Principal.name``
    locale, admin, no         ``extra_claims``
    trusted,
    avatar_url, …
    =============  =========  =========================================

    Lifetime: UserVoice's ``exp`` is optional and "defaults to never expiring"; a stand-in
    for UserVoice accepts such tokens.

    >>> uservoice(key="a-secret-of-at-least-thirty-two-bytes!", subdomain="acme").destination.target
    'https://acme.uservoice.com/'
    """
    if portal is None:
        portal = "https://{}.uservoice.com".format(_label(
            subdomain, name, "subdomain must be your UserVoice subdomain (or pass portal=)"))
    target = _page(portal, name, "portal must be your UserVoice portal's https URL")
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("guid", "id"), ("email", "email")], [("display_name", "name")], text=["guid"]),
        required=("guid", "email"), identity=("guid",), expiry_optional=True,
        destination=Destination(target, QueryParameter("sso")),
    )


def userback(
    *,
    key: KeyInput | TenantKey,
    portal: str,
    name: str = "userback",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Userback feedback portal: ``email``, ``name``, to ``{portal}?sso_jwt=<token>``.

    Follows "Single Sign-On (SSO)" (https://support.userback.io/en/articles/6160423-single-sign-on-sso);
    ``portal`` is your portal's URL, e.g. ``https://acme.ideas.userback.io/p/nMeOGChr32``.

    ==========  =========  ==================
    claim       required   from
    ==========  =========  ==================
    email       yes        ``Principal.email``
    name        no         ``Principal.name``
    avatar_url  no         ``extra_claims``
    ==========  =========  ==================

    Lifetime: Userback's Node example signs only ``iat``; a stand-in accepts that.

    >>> userback(key="a-secret-of-at-least-thirty-two-bytes!",
    ...          portal="https://acme.ideas.userback.io/p/x1").destination.placement
    QueryParameter('sso_jwt')
    """
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("email", "email")], [("name", "name")]),
        required=("email",), identity=("email",), expiry_optional=True,
        destination=Destination(_page(portal, name, "portal must be your Userback portal's https URL"),
                                QueryParameter("sso_jwt")),
    )


def productlane(
    *,
    key: KeyInput | TenantKey,
    portal: str,
    name: str = "productlane",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Productlane portal: ``email``, ``name``, to ``{portal}/api/portal/sso?token=<token>``.

    Follows "SSO" (https://productlane.com/docs/guide/sso); ``portal`` is
    ``https://acme.productlane.com`` or your custom domain.

    =============  =========  ===========================================
    claim          required   from
    =============  =========  ===========================================
    email          yes        ``Principal.email``
    name           no         ``Principal.name``
    imageUrl,      no         ``extra_claims`` (validity in minutes)
    tokenValidity
    =============  =========  ===========================================

    Lifetime: Productlane's example signs only ``iat``; a stand-in accepts that.

    >>> productlane(key="a-secret-of-at-least-thirty-two-bytes!",
    ...             portal="https://acme.productlane.com").destination.target
    'https://acme.productlane.com/api/portal/sso'
    """
    base = _site(portal, name, "portal must be your Productlane portal, e.g. 'https://acme.productlane.com'")
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("email", "email")], [("name", "name")]),
        required=("email",), identity=("email",), expiry_optional=True,
        destination=Destination(f"{base}/api/portal/sso", QueryParameter("token")),
    )


def userjot(
    *,
    key: KeyInput | TenantKey,
    name: str = "userjot",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """UserJot boards: to ``https://api.userjot.com/auth/sso?jwt=<token>&state=<state>``.

    Follows "Single sign-on" (https://userjot.com/docs/single-sign-on): UserJot sends
    ``state``, which is echoed back unchanged; the token is signed with the project secret.

    ======  =========  ==================
    claim   required   from
    ======  =========  ==================
    id      yes        ``Principal.id`` as a string
    email   yes        ``Principal.email``
    name    no         ``Principal.name``
    ======  =========  ==================

    >>> userjot(key="a-secret-of-at-least-thirty-two-bytes!").returns.echo
    ('state',)
    """
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("id", "id"), ("email", "email")], [("name", "name")], text=["id"]),
        required=("id", "email"), identity=("id",),
        destination=Destination("https://api.userjot.com/auth/sso", QueryParameter("jwt")),
        returns=ReturnRules(echo=("state",)),
    )


def launchnotes(
    *,
    key: KeyInput | TenantKey,
    page: str,
    name: str = "launchnotes",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """LaunchNotes private pages: to ``{page}?authToken=<token>`` (a 24-hour LaunchNotes session).

    Follows "JWT authentication for private pages"
    (https://help.launchnotes.com/en/articles/5653941-jwt-json-web-token-authentication-for-private-pages);
    ``page`` is your private page's URL, e.g. ``https://updates.acme.com``.

    ======  =========  ==================
    claim   required   from
    ======  =========  ==================
    email   yes        ``Principal.email``
    name    no         ``Principal.name``
    ======  =========  ==================

    >>> launchnotes(key="a-secret-of-at-least-thirty-two-bytes!",
    ...             page="https://updates.acme.com").destination.placement
    QueryParameter('authToken')
    """
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("email", "email")], [("name", "name")]),
        required=("email",), identity=("email",),
        destination=Destination(_page(page, name, "page must be your private page's https URL"),
                                QueryParameter("authToken")),
    )


def upvoty(
    *,
    key: KeyInput | TenantKey,
    board: str,
    hosts: Iterable[str] | TenantHosts = (),
    name: str = "upvoty",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Upvoty: the token as a path segment, ``/front/handleSSO/<token>/?redirectUrl=…``.

    Follows Upvoty's SSO guide (https://upvoty.com, "Single Sign-On"): Upvoty sends
    ``redirectUrl``, which must be on ``{board}.upvoty.com`` or ``hosts`` (a custom domain).

    ======  =========  ===========================
    claim   required   from
    ======  =========  ===========================
    id      yes        ``Principal.id`` (type kept)
    email   yes        ``Principal.email``
    name    no         ``Principal.name``
    avatar  no         ``extra_claims``
    ======  =========  ===========================

    Lifetime: Upvoty's PHP example signs no ``exp``; a stand-in accepts that.

    >>> upvoty(key="a-secret-of-at-least-thirty-two-bytes!", board="acme").destination.target
    'https://acme.upvoty.com/front/handleSSO/{token}/'
    """
    host = "{}.upvoty.com".format(_label(board, name, "board must be your Upvoty subdomain"))
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("id", "id"), ("email", "email")], [("name", "name")]),
        required=("id", "email"), identity=("id",), expiry_optional=True,
        destination=Destination(f"https://{host}/front/handleSSO/{TOKEN}/", PathSegment()),
        returns=ReturnRules("redirectUrl", hosts=_hosts(name, [host], hosts), forward_as="redirectUrl"),
    )


def _first_last(user: Principal) -> dict[str, Any]:
    """Metabase's ``first_name``/``last_name`` from ``Principal.name`` (split at the first space)."""
    found: dict[str, Any] = {"email": need(user, "email")}
    first, _, last = (user.name or "").strip().partition(" ")
    if first:
        found["first_name"] = first
    if last.strip():
        found["last_name"] = last.strip()
    return found


def metabase(
    *,
    key: KeyInput | TenantKey,
    site: str,
    name: str = "metabase",
    ttl: int = 120,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Metabase JWT SSO: ``{site}/auth/sso?jwt=<token>&return_to=<relative path>``.

    Follows "JWT-based authentication"
    (https://www.metabase.com/docs/latest/people-and-groups/authenticating-with-jwt):
    Metabase sends ``return_to``, a relative path, checked to be one and passed back.
    Metabase refuses tokens issued more than 3 minutes ago, hence a short ``ttl``.

    ===========  =========  ==========================================
    claim        required   from
    ===========  =========  ==========================================
    email        yes        ``Principal.email``
    first_name,  no         ``Principal.name``, split at the first space
    last_name
    groups       no         ``extra_claims`` (group sync)
    ===========  =========  ==========================================

    >>> metabase(key="a-secret-of-at-least-thirty-two-bytes!", site="https://bi.acme.com").destination.target
    'https://bi.acme.com/auth/sso'
    """
    base = _site(site, name, "site must be your Metabase's https URL, e.g. 'https://bi.acme.com'")
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, claims=_first_last,
        required=("email", "iat"), identity=("email",), max_age=180,
        destination=Destination(f"{base}/auth/sso", QueryParameter("jwt")),
        returns=ReturnRules("return_to", forward_as="return_to", relative=True),
    )


def gitbook(
    *,
    key: KeyInput | TenantKey,
    site: str,
    name: str = "gitbook",
    ttl: int = 3600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """GitBook authenticated access: ``{site}{location}?jwt_token=<token>``.

    Follows "Setting up a custom backend"
    (https://gitbook.com/docs/publishing-documentation/authenticated-access/setting-up-a-custom-backend):
    GitBook sends the visitor's ``location``, a relative path, checked to be one; the browser
    goes to that page of ``site`` with the token.

    ============  =========  ================================================
    claim         required   from
    ============  =========  ================================================
    sub           yes        ``Principal.id`` as a string (names the visitor)
    (any)         no         ``extra_claims`` (adaptive content attributes)
    ============  =========  ================================================

    >>> svc = gitbook(key="a-secret-of-at-least-thirty-two-bytes!", site="https://docs.acme.com")
    >>> svc.returns.resolve("location=/guides/setup")[0]
    'https://docs.acme.com/guides/setup'
    """
    base = _site(site, name, "site must be your GitBook site's https URL, e.g. 'https://docs.acme.com'")
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("sub", "id")], text=["sub"]), required=("sub",), identity=("sub",),
        destination=Destination(placement=QueryParameter("jwt_token")),
        returns=ReturnRules("location", relative=True, base=base),
    )


def _discourse_claims(user: Principal) -> dict[str, Any]:
    """Discourse's fields: ``require_activation`` unless the app vouches for the email."""
    found: dict[str, Any] = {"email": need(user, "email"), "external_id": str(need(user, "id"))}
    for field_name in ("username", "name"):
        value = optional(user, field_name)
        if value is not None:
            found[field_name] = value
    if user.attributes.get("email_verified") is not True:
        found["require_activation"] = True
    return found


def discourse(
    *,
    secret: KeyInput,
    url: str,
    provider: str | None = None,
    hosts: Iterable[str] = (),
    name: str = "discourse",
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Discourse Connect, both directions: your app signs users in to the forum at ``url``, or
    (as a receiver) signs users in *with* a provider.

    Follows "Setup DiscourseConnect" (https://meta.discourse.org/t/13045) and "Use Discourse as
    an identity provider" (https://meta.discourse.org/t/32974). Not a JWT: Discourse sends
    ``/sso/discourse?sso=<Base64 payload>&sig=<hex HMAC-SHA256>`` with a ``nonce`` and a
    ``return_sso_url``; the signature is checked in constant time (a bad or missing one is a
    4xx and nothing is signed), ``return_sso_url`` must be on the forum's host (plus
    ``hosts``), and the answer goes back there, signed the same way, with the same nonce.

    ==================  =========  ==================================================
    field               required   from
    ==================  =========  ==================================================
    nonce               yes        Discourse's request, copied back
    email               yes        ``Principal.email`` (Discourse maps users by it)
    external_id         yes        ``Principal.id`` as a string
    username, name      no         ``Principal.attributes["username"]``, ``.name``
    require_activation  no         ``true`` unless ``attributes["email_verified"]`` is True
    groups, add_groups, no         ``extra_claims`` (lists are comma-joined, booleans
    admin, moderator,              ``true``/``false``)
    avatar_url, bio, …
    ==================  =========  ==================================================

    As a receiver (``VerifierMiddleware(app, service=discourse(...))``) it plays Discourse: a
    visit to ``/session/sso_login`` starts the round trip at ``provider`` (default
    ``{url}/session/sso_provider``, Discourse as the identity provider; your app's
    ``/sso/discourse`` for a stand-in forum) with a nonce bound to the browser and good for
    10 minutes, and accepts the answer once.

    >>> svc = discourse(secret="d836444a9e4084d5b224a60c208dce14", url="https://forum.acme.com")
    >>> svc.destination.listen, svc.destination.placement.provider
    ('/session/sso_login', 'https://forum.acme.com/session/sso_provider')
    """
    forum = _site(url, name, "url must be your forum's https URL, e.g. 'https://forum.acme.com'")
    host = urlsplit(forum).netloc
    return _preset(
        name=name, key=secret, ttl=300, extra_claims=extra_claims, claims=_discourse_claims,
        required=("external_id", "email"), identity=("external_id",), min_key_length=10,
        destination=Destination(path="/session/sso_login",
                                placement=SignedPayload(provider or f"{forum}/session/sso_provider")),
        returns=ReturnRules(hosts=_hosts(name, [host], hosts)),
    )


PRESETS: dict[str, Callable[..., Service]] = {
    preset.__name__: preset
    for preset in (canny, discourse, featurebase, frill, gitbook, helpscout, invoiced, launchnotes,
                   metabase, productlane, upvoty, userback, userjot, uservoice, zendesk)
}
"""Every preset by name, as :func:`from_config` finds them."""


def _setting_value(option: str, value: Any) -> Any:
    """Settings are often strings (environment variables): a list option takes ``"a.com, b.com"``."""
    if option == "hosts" and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if option == "ttl" and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def from_config(config: Mapping[str, Any], *, setting: str = "SSO_SERVICES") -> list[Service]:
    """Services from plain settings: ``{name: {option: value}}`` (Django settings, Flask config,
    or environment variables gathered into a dict).

    The entry's name picks the preset (``preset=`` picks another, so two Frill boards can be
    ``frill-eu`` and ``frill-us``); the other keys are that preset's options. ``hosts`` may be
    a comma-separated string and ``ttl`` a string of digits. Every mistake is a
    ``ConfigurationError`` naming the setting, e.g. ``SSO_SERVICES['frill']['hosts']``.

    >>> [s.name for s in from_config({"frill": {"key": "a-secret-of-at-least-thirty-two-bytes!",
    ...                                         "hosts": "feedback.acme.com"}})]
    ['frill']
    """
    if not isinstance(config, Mapping) or not config:
        raise ConfigurationError(f"{setting}: a mapping of service names to their options, e.g. "
                                 "{'frill': {'key': ..., 'hosts': ['feedback.acme.com']}}.")
    built: list[Service] = []
    for entry, options in config.items():
        where = f"{setting}[{entry!r}]"
        if not isinstance(options, Mapping):
            raise ConfigurationError(f"{where}: the service's options as a mapping, e.g. {{'key': ...}}.")
        options = dict(options)
        preset_name = options.pop("preset", entry)
        preset = PRESETS.get(preset_name) if isinstance(preset_name, str) else None
        if preset is None:
            raise ConfigurationError(
                f"{where}: no preset named {preset_name!r}; use one of {', '.join(sorted(PRESETS))} "
                "(or 'preset': 'frill' to name this entry yourself)."
            )
        signature = inspect.signature(preset)
        accepted = set(signature.parameters)
        unknown = sorted(set(options) - accepted)
        if unknown:  # a misspelling is the likelier mistake: name it before what is missing
            raise ConfigurationError(
                f"{where}[{unknown[0]!r}]: services.{preset.__name__} takes no such option; it takes "
                f"{', '.join(sorted(accepted))}."
            )
        missing = [n for n, p in signature.parameters.items() if p.default is p.empty and n not in options]
        if missing:
            raise ConfigurationError(f"{where}: services.{preset.__name__} needs {', '.join(missing)}.")
        if preset_name != entry:
            options.setdefault("name", entry)
        values = {option: _setting_value(option, value) for option, value in options.items()}
        try:
            built.append(preset(**values))
        except ConfigurationError as e:
            named = next((o for o in sorted(values, key=len, reverse=True) if f"{o}" in e.message), None)
            raise ConfigurationError(
                f"{where}{'' if named is None else f'[{named!r}]'}: {e.message}"
            ) from e
    return built

__all__ = [
    "PRESETS",
    "ClaimBuilder",
    "Destination",
    "ExtraClaims",
    "FormField",
    "PathSegment",
    "Pending",
    "QueryParameter",
    "ReturnRules",
    "Service",
    "TenantHosts",
    "TenantKey",
    "TokenRules",
    "canny",
    "discourse",
    "featurebase",
    "frill",
    "from_config",
    "generic",
    "gitbook",
    "helpscout",
    "invoiced",
    "launchnotes",
    "metabase",
    "need",
    "optional",
    "productlane",
    "upvoty",
    "userback",
    "userjot",
    "uservoice",
    "zendesk",
]
