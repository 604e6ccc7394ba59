"""The one place that judges a URL safe, and builds the URLs we emit.

Python's ``urlsplit`` and browsers disagree on edge cases (backslashes, tabs,
userinfo), and frameworks rewrite ``Location`` headers in their own ways, so a
URL is refused outright when it has anything a parser could read two ways, and
the exact string judged is the string emitted (with our parameters appended).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote, unquote_plus, urlsplit

from .errors import ConfigurationError, RedirectNotAllowed

MAX_URL_LENGTH = 2048
# RFC 3986 unreserved + reserved + "%": everything else (space, control characters,
# backslash, quotes, angle brackets, non-ASCII) makes a URL ambiguous or unsafe.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(\.{_LABEL})*")
_DEFAULT_PORTS = {"https": 443, "http": 80}
_AUTHORITY_END = re.compile(r"[/?#]")


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def _valid_hostname(hostname: str) -> bool:
    if hostname.startswith("["):
        try:
            ipaddress.IPv6Address(hostname[1:-1])
        except ValueError:
            return False
        return hostname.endswith("]")
    return _HOSTNAME.fullmatch(hostname) is not None


def split_netloc(netloc: str) -> tuple[str, int | None] | None:
    """``(hostname, port)`` of an authority with no userinfo, lower-cased; ``None`` if invalid."""
    if netloc.startswith("["):
        hostname, bracket, rest = netloc.partition("]")
        hostname += bracket
        if rest and not rest.startswith(":"):
            return None
        port: str | None = rest[1:] if rest else None
    else:
        hostname, colon, rest = netloc.partition(":")
        port = rest if colon else None
    if port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        return None
    hostname = hostname.lower()
    if not _valid_hostname(hostname):
        return None
    return hostname, int(port) if port is not None else None


class AllowedHosts:
    """Hosts a token may be sent to: exact names, ``*.example.com`` wildcards, optional ports.

    A host without a port matches only the scheme's default port. A wildcard
    matches subdomains, not the bare domain. Plain ``http`` is accepted only
    for loopback hosts you list (local development and tests); every other
    host must be reached over https.

    >>> hosts = AllowedHosts(["feedback.acme.com", "*.frill.co"])
    >>> "feedback.acme.com" in hosts, "acme.frill.co" in hosts, "frill.co" in hosts
    (True, True, False)
    """

    __slots__ = ("_listed", "exact", "suffixes")

    def __init__(self, patterns: Iterable[str], *, field: str = "hosts") -> None:
        if isinstance(patterns, str):
            raise ConfigurationError(
                f"{field}: pass a list of host names, e.g. [{patterns!r}], not a bare string."
            )
        exact: list[str] = []
        suffixes: list[str] = []
        for pattern in patterns:
            if not isinstance(pattern, str):
                raise ConfigurationError(f"{field}: host patterns must be strings.")
            host = pattern.strip().lower()
            wildcard = host.startswith("*.")
            split = split_netloc(host[2:] if wildcard else host)
            if split is None or (wildcard and (split[1] is not None or "." not in split[0])):
                raise ConfigurationError(
                    f"{field}: {pattern!r} is not a host pattern. Use a bare host name such as "
                    "'feedback.acme.com', optionally with a port ('127.0.0.1:8000'), or a "
                    "wildcard such as '*.acme.com' (no scheme, no path, no trailing dot)."
                )
            hostname, port = split
            if wildcard:
                suffixes.append("." + hostname)
            else:
                exact.append(hostname if port is None else f"{hostname}:{port}")
        self._listed = tuple(exact)
        self.exact = frozenset(exact)
        self.suffixes = tuple(suffixes)

    def __contains__(self, host: object) -> bool:
        if not isinstance(host, str):
            return False
        return host in self.exact or (":" not in host and host.endswith(self.suffixes))

    def __bool__(self) -> bool:
        return bool(self.exact or self.suffixes)

    def first(self) -> str | None:
        """The first exact host listed, if any (used for a default return URL)."""
        return self._listed[0] if self._listed else None


def host_key(url: str) -> str | None:
    """``host`` or ``host:port`` of an absolute http(s) URL without ambiguity, else ``None``.

    The default port is dropped; ``None`` for anything with userinfo,
    backslashes, whitespace, control or non-ASCII characters, or a scheme
    other than http/https.
    """
    split = _split_url(url)
    return None if split is None else split[0]


def _split_url(url: object) -> tuple[str, str] | None:
    """:func:`host_key` of ``url``, and what follows its authority (path, query, fragment)."""
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH:
        return None
    if not _URL_CHARS.fullmatch(url):
        return None
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        return None
    end = _AUTHORITY_END.search(rest)
    authority, after = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
    split = split_netloc(authority)
    if split is None:
        return None
    hostname, port = split
    if scheme == "http" and not _is_loopback(hostname):
        return None
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return hostname, after
    return f"{hostname}:{port}", after


def check_url(url: object, hosts: AllowedHosts) -> str:
    """Return ``url`` unchanged if a token may be sent there, else raise :class:`RedirectNotAllowed`.

    Only https URLs (http for listed loopback hosts) whose host is in
    ``hosts`` pass; see :func:`host_key` for what else is refused.

    >>> check_url("https://feedback.acme.com/b/roadmap?x=1", AllowedHosts(["feedback.acme.com"]))
    'https://feedback.acme.com/b/roadmap?x=1'
    """
    if not isinstance(url, str):
        raise RedirectNotAllowed()
    split = _split_url(url)
    if split is None:
        raise RedirectNotAllowed(detail="not an https URL with a valid host")
    key, after = split
    if key not in hosts:
        raise RedirectNotAllowed(detail=f"host {key[:100]!r} is not listed")
    if after.startswith("//"):
        # a path starting "//" would make the service's own page bounce the browser elsewhere
        raise RedirectNotAllowed(detail="its path starts with //")
    return url


def absolute_url(value: object) -> bool:
    """Whether ``value`` is a plain absolute http(s) URL with a host (configuration, not a
    browser's input: for links such as a login page elsewhere).

    >>> absolute_url("https://app.acme.com/sso/frill"), absolute_url("https://app.acme.com/<x>")
    (True, False)
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL_LENGTH or not _URL_CHARS.fullmatch(value):
        return False
    parts = urlsplit(value)
    return parts.scheme in _DEFAULT_PORTS and bool(parts.hostname)


def safe_relative_path(value: object) -> str | None:
    """``value`` if it is a same-origin path (``/…``, not ``//…`` or ``/\\…``), else ``None``."""
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_URL_LENGTH
        or not value.startswith("/")
        or value.startswith("//")
        or not _URL_CHARS.fullmatch(value)
    ):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def with_params(url: str, params: Sequence[tuple[str, str]]) -> str:
    """``url`` with ``params`` appended to its query; same-named parameters already there are
    dropped (so nobody can plant a second token), all others are kept exactly as written.

    >>> with_params("https://b.example.com/p?a=1&ssoToken=old#top", [("ssoToken", "t")])
    'https://b.example.com/p?a=1&ssoToken=t#top'
    """
    if not params:
        return url
    base, hash_, fragment = url.partition("#")
    path, _, query = base.partition("?")
    names = {name for name, _ in params}
    kept = [
        part
        for part in query.split("&")
        if part and unquote_plus(part.partition("=")[0]) not in names
    ]
    kept.extend(f"{_quoted(name)}={_quoted(value)}" for name, value in params)
    return f"{path}?{'&'.join(kept)}{hash_}{fragment}"


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _quoted(value: str) -> str:
    """``value`` as ``urlencode(..., quote_via=quote)`` writes it: as it is when it has only
    unreserved characters (a token, a parameter name), which ``quote`` leaves alone."""
    value = str(value)
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


def without_params(url: str, names: Iterable[str]) -> str:
    """``url`` (a path with a query) with the named parameters removed, the rest kept as written."""
    path, sep, query = url.partition("?")
    if not sep:
        return url
    drop = set(names)
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) not in drop]
    return f"{path}?{'&'.join(kept)}" if kept else path


__all__ = [
    "MAX_URL_LENGTH",
    "AllowedHosts",
    "absolute_url",
    "check_url",
    "host_key",
    "safe_relative_path",
    "split_netloc",
    "with_params",
    "without_params",
]
