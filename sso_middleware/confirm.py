"""The confirm step of emailed sign-in links: the link's GET shows a page, only its POST signs in.

Mail scanners and link previews (Outlook Safe Links, corporate mail gateways, Slack and Teams
unfurlers) open a link before the person does. A one-time link whose ``GET`` consumes its token
arrives dead: the person sees "this link was already used". A receiver whose placement is
:class:`Confirm` (``VerifierMiddleware(..., confirm=True)``) checks the token fully on ``GET`` and
``HEAD`` without consuming it, and answers a small page with one button, "Continue as
ada@example.com", that POSTs the token back to the same path. Only that same-origin ``POST``
consumes the one-time id and opens the session. The round trip plugs into the verifier's hooks
(:class:`~sso_middleware.placements.RoundTrip`): nothing here is a special case of the flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from .errors import ConfigurationError, CrossSiteRequest
from .messages import MAX_FORM, Reply, Request, own_path, parse_query, same_origin
from .pages import ConfirmPageHook, ConfirmView, confirm_reply
from .placements import Placement, QueryParameter
from .principal import Principal
from .redirects import safe_relative_path, without_params

if TYPE_CHECKING:
    from .session import Trip
    from .tokens import Verified


class Confirm(QueryParameter):
    """A sign-in link (the token in a query parameter) confirmed by the person before it counts.

    ``GET``/``HEAD`` of the link verifies the token (signature, expiry, audience, type, and
    whether it was already used, when the replay store can say so without writing) and answers
    a page whose one button POSTs the token back; an expired, forged or used token gets the
    error page at once. Nothing is consumed, so a scanner's visits burn nothing. The page is
    never cached, sends no referrer, allows forms to this origin only, and works without
    JavaScript. The ``POST`` must come from this site's own pages (``Sec-Fetch-Site``, else
    ``Origin``/``Referer``): a page on another site cannot sign a visitor in with its own link.
    Only the POST consumes the one-time id, so the person signs in once, and a second click,
    in any browser, is refused.

    ``auto_submit=True`` lets the page submit itself (a one-line script allowed by its content
    security policy's hash) when the visit is clearly a person's own top-level navigation
    (``Sec-Fetch-Mode: navigate`` and ``Sec-Fetch-User: ?1``). Scanners do not send those, but
    a page on another site that the person clicks through does: it gives back the one-click
    sign-in, and with it the login CSRF a one-time link has (see SECURITY.md).

    :param param: the query parameter of the link, and the form field the page posts.
    :param page: ``ConfirmView -> str | None``: your own page (see
        :class:`~sso_middleware.pages.ConfirmView`); ``None`` from it gives the built-in one.
    :param auto_submit: skip the click for a person's own navigation (default: off).

    >>> from sso_middleware.keys import Key
    >>> link = Confirm().deliver("https://app.acme.com/sso", "a.b.c", [])
    >>> link.headers[0]
    ('Location', 'https://app.acme.com/sso?token=a.b.c')
    >>> Confirm().extract("/sso", Request("POST", "/sso", body=b"token=a.b.c"))
    'a.b.c'
    """

    methods: ClassVar[tuple[str, ...]] = ("GET", "HEAD", "POST")
    body_limit: ClassVar[int] = MAX_FORM
    __slots__ = ("auto_submit", "page")

    def __init__(self, param: str = "token", *, page: ConfirmPageHook | None = None,
                 auto_submit: bool = False) -> None:
        super().__init__(param)
        if page is not None and not callable(page):
            raise ConfigurationError("Confirm: page must be a callable(ConfirmView) returning HTML, or None.")
        if not isinstance(auto_submit, bool):
            raise ConfigurationError("Confirm: auto_submit must be True or False.")
        self.page = page
        self.auto_submit = auto_submit

    def extract(self, listen: str | None, request: Request) -> str | None:
        """The link's token on ``GET``/``HEAD``; the page's form field on ``POST`` (never the
        query: the confirmed token travels in the body only)."""
        if request.method == "POST":
            return parse_query(request.body.decode("latin-1"), (self.param,)).get(self.param)
        return super().extract(listen, request)

    def check(self, verified: Verified, request: Request, trip: Trip, now: float) -> Verified:
        """A ``POST`` comes from this site's own confirm page, or is refused (before the
        one-time id is consumed)."""
        if request.method == "POST" and not same_origin(request):
            raise CrossSiteRequest()
        return verified

    def hold(self, verified: Verified, request: Request, trip: Trip, now: float) -> Reply | None:
        """On ``GET``/``HEAD``: the confirm page (nothing is consumed). On ``POST``: ``None``,
        go on and sign in."""
        if request.method == "POST":
            return None
        principal = Principal.from_claims(verified.subject, verified.claims)
        who = principal.email or principal.name or str(principal.id)
        view = ConfirmView(who, self._action(request, trip), ((self.param, self._token(request)),),
                           auto=self.auto_submit and _navigated(request))
        return confirm_reply(view, self.page)

    def ready(self, where: str, *, remote: bool) -> None:
        """Any receiver that listens on a path can confirm (the page posts back to it)."""

    def _token(self, request: Request) -> str:
        return super().extract(None, request) or ""

    def _action(self, request: Request, trip: Trip) -> str:
        """This very address minus the token (``next`` and the rest kept), as a same-site path."""
        url = own_path(request)
        if request.query:
            url = without_params(f"{url}?{request.query}", [self.param])
        return safe_relative_path(url) or quote(request.root + (trip.listen or "/"))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Confirm) and other.param == self.param and other.page is self.page
                and other.auto_submit == self.auto_submit)

    def __hash__(self) -> int:
        return hash((type(self), self.param, self.auto_submit))

    def __repr__(self) -> str:
        extra = ", auto_submit=True" if self.auto_submit else ""
        return f"Confirm({self.param!r}{extra})"


def _navigated(request: Request) -> bool:
    """A person's own top-level navigation: a click or typing, as browsers mark it."""
    return request.header("sec-fetch-mode") == "navigate" and request.header("sec-fetch-user") == "?1"


def confirming(placement: Placement, confirm: bool | Confirm) -> Placement:
    """The placement a receiver uses with ``confirm=``: a :class:`Confirm` for a link carried
    in a query parameter; any other placement cannot be confirmed (a configuration error)."""
    if confirm is False:
        return placement
    if isinstance(placement, Confirm) and confirm is True:
        return placement
    if not isinstance(confirm, (bool, Confirm)):
        raise ConfigurationError("confirm: pass True, or a Confirm(...) placement.")
    if type(placement) is not QueryParameter and not isinstance(placement, Confirm):
        raise ConfigurationError(
            f"confirm: {placement!r} cannot be confirmed; a confirm page needs the link's token in "
            "a query parameter (placement=QueryParameter(...), the default)."
        )
    if isinstance(confirm, Confirm):
        if confirm.param != placement.param:
            raise ConfigurationError(
                f"confirm: Confirm({confirm.param!r}) reads another parameter than the "
                f"receiver's {placement.param!r}; give Confirm({placement.param!r}, ...)."
            )
        return confirm
    return Confirm(placement.param)


__all__ = ["Confirm", "confirming"]
