"""WebFinger (RFC 7033) for OpenID Connect issuer discovery: ``GET /.well-known/webfinger``.

Tailscale (and OpenID Connect Discovery 1.0 section 2) finds a user's identity provider from
their email address: it asks ``https://{email domain}/.well-known/webfinger?resource=acct:
ada@acme.com&rel=http://openid.net/specs/connect/1.0/issuer`` and reads the issuer URL from the
answer. The path is at the host's root, not below the issuer's prefix, so the provider answers
it at ``/.well-known/webfinger`` of the app it wraps, and only when
``OpenIDProvider(webfinger_domains=[...])`` names the email domains: any address in those
domains gets the same answer (the issuer), so the endpoint tells nobody whether a user exists;
any other address is a 404. If the email domain's site is not this app, serve or proxy that one
path there.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qsl, unquote

from ..errors import ConfigurationError, RequestError
from ..messages import MAX_QUERY, Reply, Request
from ..steps import Steps
from .endpoint import Ask, Endpoint, ServerError, json_reply, refused

WEBFINGER_PATH = "/.well-known/webfinger"
ISSUER_REL = "http://openid.net/specs/connect/1.0/issuer"
MAX_AGE = 300


class BadResource(RequestError):
    """Raised by the WebFinger endpoint when the request does not name exactly one resource."""

    code = "invalid_resource"
    status = 400
    message = "Ask for exactly one resource, such as acct:ada@acme.com."


class UnknownResource(RequestError):
    """Raised by the WebFinger endpoint for a resource outside the configured email domains."""

    code = "unknown_resource"
    status = 404
    message = "Nothing is known here about this resource."


class LookupFailed(ServerError):
    """Answered when the WebFinger endpoint fails on our side: nobody was signing in."""

    message = "Looking up this account's sign-in provider failed on our side; please try again."
    title = "Lookup failed"


def check_domains(domains: object) -> frozenset[str]:
    """The configured email domains, lower-cased (``acme.com``, not a URL, not an address).

    >>> sorted(check_domains(["Acme.com", "xn--bcher-kva.example"]))
    ['acme.com', 'xn--bcher-kva.example']
    >>> check_domains(["@acme.com"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    sso_middleware.errors.ConfigurationError: OpenIDProvider: webfinger_domains: '@acme.com' is not an ...
    """
    found = [domains] if isinstance(domains, str) else domains
    if not isinstance(found, (list, tuple, set, frozenset)):
        raise ConfigurationError("OpenIDProvider: webfinger_domains is a list of email domains, e.g. "
                                 "['acme.com'].")
    for domain in found:
        if (not isinstance(domain, str) or not domain or len(domain) > 253 or domain.endswith(".")
                or not all(c.isalnum() or c in "-." for c in domain) or not domain.isascii()):
            raise ConfigurationError(
                f"OpenIDProvider: webfinger_domains: {domain!r} is not an email domain; write the part "
                "after the @ of your users' addresses, e.g. 'acme.com' (IDNs in their xn-- form)."
            )
    return frozenset(d.lower() for d in found)


def _domain(resource: str) -> str | None:
    """The domain of an ``acct:user@domain`` resource, or ``None``."""
    if not resource.startswith("acct:"):
        return None
    local, at, domain = unquote(resource[5:]).rpartition("@")
    if not at or not local or len(local) > 256 or not local.isprintable() or " " in local:
        return None
    return domain.lower()


class WebFinger(Endpoint):
    """``GET /.well-known/webfinger``: the issuer for the configured email domains."""

    name: ClassVar[str] = "webfinger"
    methods: ClassVar[tuple[str, ...]] = ("GET", "HEAD")
    failure: ClassVar[type[ServerError]] = LookupFailed

    def _answer(self, request: Request) -> Steps[Ask, Reply]:
        pairs = parse_qsl(request.query, keep_blank_values=True) if len(request.query) <= MAX_QUERY else []
        resources = [v for k, v in pairs if k == "resource"]
        rels = [v for k, v in pairs if k == "rel"]
        if len(resources) != 1:
            return self._refused(BadResource())
        resource = resources[0]
        if _domain(resource) not in self.context.webfinger:
            return self._refused(UnknownResource())
        links = [{"rel": ISSUER_REL, "href": self.context.issuer}] if not rels or ISSUER_REL in rels else []
        reply = json_reply(200, {"subject": resource, "links": links},
                           ("Access-Control-Allow-Origin", "*"))
        headers = [("Content-Type", "application/jrd+json") if k == "Content-Type" else (k, v)
                   for k, v in reply.headers]
        return Reply(200, headers, b"" if request.method == "HEAD" else reply.body)
        yield  # pragma: no cover

    def _refused(self, err: RequestError) -> Reply:
        refused(self.name, err.code)
        return json_reply(err.status, {"error": err.code, "message": err.message})


__all__ = ["ISSUER_REL", "WEBFINGER_PATH", "BadResource", "LookupFailed", "UnknownResource", "WebFinger",
           "check_domains"]
