"""The presets: one function per vendor, each following that vendor's own documentation.

Each returns a :class:`~sso_middleware.service.Service`; its docstring cites the vendor page it
follows and states the claim table (required and optional claims, types, lifetime rule, where
the token goes, the return parameter and what may be in it). :func:`from_config` builds them
from plain settings. The value objects are re-exported here, so
``from sso_middleware.services import TokenRules, Destination, ReturnRules`` keeps working.

>>> from sso_middleware import services
>>> services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["feedback.acme.com"]).name
'frill'
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError, MissingClaim
from .keys import KeyInput
from .placements import TOKEN, FormField, Fragment, PathSegment, QueryParameter, SignedPayload, TokenEndpoint
from .principal import Principal
from .redirects import AllowedHosts, host_key
from .service import ClaimBuilder as ClaimBuilder
from .service import Destination as Destination
from .service import ExtraClaims as ExtraClaims
from .service import Pending as Pending
from .service import ReturnRules as ReturnRules
from .service import Service as Service
from .service import TenantHosts as TenantHosts
from .service import TenantKey as TenantKey
from .service import TokenRules as TokenRules
from .service import generic as generic
from .service import need as need
from .service import optional as optional

_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


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
    >>> svc.returns.resolve("location=/guides/setup").return_url
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


def _given_family(user: Principal) -> dict[str, Any]:
    """``given_name``/``family_name`` from ``Principal.name``, split at the first space."""
    first, _, last = str(optional(user, "name") or "").partition(" ")
    return {k: v for k, v in (("given_name", first), ("family_name", last.strip())) if v}


def freshworks(
    *,
    key: KeyInput,
    org: str,
    hosts: Iterable[str] = (),
    name: str = "freshworks",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Freshworks (Freshdesk, Freshservice) custom JWT SSO: RS256, back to ``redirect_uri``.

    Follows "How to configure SSO with custom JWT implementation"
    (https://support.freshworks.com/support/solutions/articles/50000000670) and "Setting up
    the ID token" (supportsandbox.freshdesk.com, article 11000000028109): Freshworks sends
    ``/sso/freshworks?response_type=id_token&client_id=…&state=…&nonce=…&redirect_uri=
    https://{org}.freshworks.com/sp/OIDC/{id}/implicit``; the browser goes back to
    ``redirect_uri`` (which must be on ``{org}.freshworks.com`` or ``hosts``) with
    ``state=<unchanged>&id_token=<token>``. ``key`` is your RSA private key (PEM or JWK, at
    least 2,048 bits); paste its public half (``Key(...).public_pem()``) into Freshworks.

    ===========  =========  ==========================================================
    claim        required   from
    ===========  =========  ==========================================================
    sub          yes        ``Principal.id`` as a string
    email        yes        ``Principal.email``
    iat          yes        stamped (with ``exp`` and ``jti``)
    nonce        yes        Freshworks' request, copied in (a request without one is a 400)
    given_name,  no         ``Principal.name``, split at the first space
    family_name
    phone, ...   no         ``extra_claims``
    ===========  =========  ==========================================================

    >>> from sso_middleware.keys import Key
    >>> svc = freshworks(key=Key.generate("RS256"), org="acme")
    >>> svc.token.algorithm, svc.returns.copy["nonce"], svc.returns.echo
    ('RS256', 'nonce', ('state',))
    """
    host = f"{_label(org, name, 'org must be your Freshworks subdomain')}.freshworks.com"

    def claims(user: Principal) -> dict[str, Any]:
        return {"sub": str(need(user, "id")), "email": need(user, "email"), **_given_family(user)}

    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, claims=claims, algorithm="RS256",
        required=("sub", "email", "iat", "nonce"), identity=("sub",),
        destination=Destination(placement=QueryParameter("id_token")),
        returns=ReturnRules("redirect_uri", hosts=_hosts(name, [host], hosts), echo=("state",),
                            copy={"nonce": "nonce"}),
    )


def grafana(
    *,
    key: KeyInput,
    url: str,
    algorithm: str = "RS256",
    name: str = "grafana",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Grafana JWT authentication with URL login: ``{url}{path}?auth_token=<token>``.

    Follows "Configure JWT authentication"
    (https://grafana.com/docs/grafana/latest/setup-grafana/configure-access/configure-authentication/jwt/):
    Grafana verifies the token against your JWKS (``jwk_set_url =
    https://app.acme.com/sso/.well-known/jwks.json``, which the issuer serves) and, with
    ``url_login = true``, takes it from ``?auth_token=``. ``/sso/grafana?redirect=/d/abc``
    sends the browser to that Grafana page (a relative path, checked).

    ====  =========  ==========================================================
    claim required   from (set ``username_claim = sub``, ``email_claim = email``)
    ====  =========  ==========================================================
    sub   yes        ``Principal.id`` as a string
    email yes        ``Principal.email``
    name  no         ``Principal.name``
    role  no         ``extra_claims`` (with ``role_attribute_path``)
    ====  =========  ==========================================================

    >>> from sso_middleware.keys import Key
    >>> grafana(key=Key.generate("RS256"), url="https://grafana.acme.com").returns.resolve(
    ...     "redirect=/d/abc").return_url
    'https://grafana.acme.com/d/abc'
    """
    base = _site(url, name, "url must be your Grafana's https URL, e.g. 'https://grafana.acme.com'")
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims, algorithm=algorithm,
        claims=_fields([("sub", "id"), ("email", "email")], [("name", "name")], text=["sub"]),
        required=("sub", "email"), identity=("sub",),
        destination=Destination(placement=QueryParameter("auth_token")),
        returns=ReturnRules("redirect", relative=True, base=base),
    )


def intercom(
    *,
    key: KeyInput,
    name: str = "intercom",
    ttl: int = 3600,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Intercom Messenger security: the page fetches ``/sso/intercom/token`` and boots the
    Messenger with it (``intercom_user_jwt``).

    Follows "Secure your Messenger" (https://developers.intercom.com/installing-intercom/web/identity-verification)
    and "Authenticating users in the Messenger with JWTs" (intercom.com/help, article 10589769):
    HS256 with the Messenger API secret; ``user_id`` is required, other signed user fields are
    optional; the expiry should match your own session's. Render the page's side with
    :func:`sso_middleware.snippets.token_script`.

    =======  =========  ==========================================
    claim    required   from
    =======  =========  ==========================================
    user_id  yes        ``Principal.id`` as a string
    email    no         ``Principal.email``
    name     no         ``Principal.name``
    (any)    no         ``extra_claims`` (other signed user fields)
    =======  =========  ==========================================

    >>> intercom(key="a-secret-of-at-least-thirty-two-bytes!").fetched
    True
    """
    return _preset(
        name=name, key=key, ttl=ttl, extra_claims=extra_claims,
        claims=_fields([("user_id", "id")], [("email", "email"), ("name", "name")], text=["user_id"]),
        required=("user_id",), identity=("user_id",),
        destination=Destination(placement=TokenEndpoint(), path="/"),
    )


def tableau(
    *,
    secret: str,
    secret_id: str,
    client_id: str,
    scopes: Iterable[str] = ("tableau:views:embed",),
    username: str = "email",
    name: str = "tableau",
    ttl: int = 300,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Tableau connected apps (direct trust): the page fetches ``/sso/tableau/token`` for the
    embedding API's ``token`` attribute.

    Follows "Configure Connected Apps with Direct Trust"
    (https://help.tableau.com/current/online/en-us/connected_apps_direct.htm) and its
    troubleshooting page: HS256 with the connected app's secret value; the header names the
    secret id as ``kid`` and the client id as ``iss``; ``exp`` at most 10 minutes ahead (a
    longer ``ttl`` is refused here, and a stand-in refuses a longer token); ``sub`` is the
    Tableau username, by default the principal's email (``username=`` names another field).

    =====  =========  ==============================================
    claim  required   from
    =====  =========  ==============================================
    iss    yes        ``client_id``
    aud    yes        ``"tableau"``
    sub    yes        ``Principal.<username>`` (case-sensitive)
    scp    yes        ``scopes``
    jti    yes        stamped (with ``iat`` and ``exp``)
    (any)  no         ``extra_claims`` (user attributes)
    =====  =========  ==============================================

    >>> svc = tableau(secret="a-secret-of-at-least-thirty-two-bytes!", secret_id="s-1", client_id="c-1")
    >>> svc.keys.signing.kid, dict(svc.token.header)
    ('s-1', {'iss': 'c-1'})
    """
    from .keys import Key

    for label, value in (("secret_id", secret_id), ("client_id", client_id)):
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(
                f"service {name!r}: {label} is the connected app's {label.replace('_', ' ')}."
            )
    scp = [scope for scope in scopes] if not isinstance(scopes, str) else [scopes]
    if not scp or not all(isinstance(scope, str) and scope for scope in scp):
        raise ConfigurationError(f"service {name!r}: scopes, e.g. ['tableau:views:embed'].")

    def claims(user: Principal) -> dict[str, Any]:
        return {"iss": client_id, "aud": "tableau", "sub": need(user, username), "scp": scp}

    rules = TokenRules(claims=claims, required=("sub", "scp", "jti"), identity=("sub",), ttl=ttl,
                       extra=extra_claims, header={"iss": client_id}, audience="tableau", max_lifetime=600)
    return Service(name=name, key=Key(secret, kid=secret_id, field=f"service {name!r}: secret"), token=rules,
                   destination=Destination(placement=TokenEndpoint(), path="/"))


def mintlify(
    *,
    key: KeyInput,
    docs: str,
    session: int = 14 * 86400,
    name: str = "mintlify",
    ttl: int = 60,
    extra_claims: ExtraClaims | None = None,
) -> Service:
    """Mintlify JWT authentication: EdDSA, the token in the fragment of
    ``{docs}/login/jwt-callback?redirect=<path>#<token>``.

    Follows "JWT" authentication setup
    (https://mintlify.com/docs/settings/authentication-personalization/authentication-setup/jwt):
    sign with the private key from the dashboard (EdDSA), send the browser to the docs'
    ``/login/jwt-callback`` with the token as the URL's hash, and pass on Mintlify's relative
    ``redirect``. ``expiresAt`` is when the docs session ends (``session`` seconds); the token
    itself is short-lived (Mintlify's example: seconds).

    =========  =========  ==============================================
    claim      required   from
    =========  =========  ==============================================
    expiresAt  yes        now + ``session``
    sub        no         ``Principal.id`` as a string (names the reader)
    groups     no         ``extra_claims`` (page access groups)
    content    no         ``extra_claims`` (personalisation)
    =========  =========  ==============================================

    >>> from sso_middleware.keys import Key
    >>> mintlify(key=Key.generate("EdDSA"), docs="https://docs.acme.com").destination.target
    'https://docs.acme.com/login/jwt-callback'
    """
    base = _site(docs, name, "docs must be your docs' https URL, e.g. 'https://docs.acme.com'")
    rules = TokenRules(claims=_fields([("sub", "id")], text=["sub"]), required=("expiresAt",),
                       identity=("sub",), algorithm="EdDSA", ttl=ttl, extra=extra_claims,
                       session=("expiresAt", session))
    return Service(name=name, key=key, token=rules,
                   destination=Destination(f"{base}/login/jwt-callback", Fragment()),
                   returns=ReturnRules("redirect", forward_as="redirect", relative=True))



PRESETS: dict[str, Callable[..., Service]] = {
    preset.__name__: preset
    for preset in (canny, discourse, featurebase, freshworks, frill, gitbook, grafana, helpscout,
                   intercom, invoiced, launchnotes, metabase, mintlify, productlane, tableau, upvoty,
                   userback, userjot, uservoice, zendesk)
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
    "Fragment",
    "PathSegment",
    "Pending",
    "QueryParameter",
    "ReturnRules",
    "Service",
    "SignedPayload",
    "TenantHosts",
    "TenantKey",
    "TokenEndpoint",
    "TokenRules",
    "canny",
    "discourse",
    "featurebase",
    "freshworks",
    "frill",
    "from_config",
    "generic",
    "gitbook",
    "grafana",
    "helpscout",
    "intercom",
    "invoiced",
    "launchnotes",
    "metabase",
    "mintlify",
    "need",
    "optional",
    "productlane",
    "tableau",
    "upvoty",
    "userback",
    "userjot",
    "uservoice",
    "zendesk",
]
