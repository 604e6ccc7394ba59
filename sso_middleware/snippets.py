"""What a page needs to use a token endpoint (``TokenEndpoint``: Intercom, Tableau) or a
widget's user hash (``UserHash``: Help Scout Beacon, Chatwoot, ...).

:func:`token_script` renders a ``<script>`` that fetches the signed-in user's token from
``{prefix}/{service}/token`` (same-origin, with the session's cookies, never cached) and
hands it to a function of yours, again shortly before it expires. :func:`user_hash` gives a
server-rendered page the fields and hash an identity-verification widget takes.
:func:`frill_widget`, :func:`canny_widget`, :func:`featurebase_widget` and
:func:`featurebase_messenger` fetch a widget-mode token once (``widget=True`` on those presets)
and make the vendor's own page-side call with it (load the vendor's script first).

>>> print(token_script("/sso/intercom/token", "bootIntercom"))  # doctest: +ELLIPSIS
<script>(function(){...window["bootIntercom"]...})();</script>
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .service import Service

_CALLBACK = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")


def _js_string(value: str) -> str:
    """A JavaScript string literal that is safe inside an HTML ``<script>`` element."""
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _checked_url(url: str) -> str:
    from .redirects import safe_relative_path

    if safe_relative_path(url) is None:
        raise ValueError("url must be a path on this site, such as '/sso/intercom/token'.")
    return url


def _fetching(url: str, then: str, nonce: str | None, *, again: bool) -> str:
    """The ``<script>``: fetch ``url``, run ``then`` (JavaScript reading ``b.token``), and, when
    ``again``, fetch again a minute before the token expires."""
    code = (
        "(function(){"
        f"var url={_js_string(_checked_url(url))};"
        "function load(){fetch(url,{credentials:\"same-origin\",cache:\"no-store\","
        "headers:{Accept:\"application/json\"}}).then(function(r){return r.json().then(function(b){"
        "if(!r.ok){console.warn(\"sso token: \"+(b.error||r.status));return;}"
        f"{then}"
        + ("var wait=b.expires_at*1000-Date.now()-60000;if(wait>0){setTimeout(load,wait);}" if again else "")
        + "});});}"
        "load();})();"
    )
    attribute = f' nonce="{escape(nonce)}"' if nonce else ""
    return f"<script{attribute}>{code}</script>"


def token_script(url: str, callback: str, *, nonce: str | None = None) -> str:
    """A ``<script>`` that calls ``window[callback](token, expiresAt)`` with the user's token.

    It fetches ``url`` (a same-site path such as ``/sso/intercom/token``) with the page's
    cookies, and again a minute before the token expires while the page stays open. A
    refusal (``401`` when nobody is signed in) calls nothing and logs the error code.

    :param url: the token endpoint, a path on this site.
    :param callback: the name of a global function of yours, e.g. ``"bootIntercom"``.
    :param nonce: your Content-Security-Policy nonce for this page, if it uses one.

    >>> token_script("https://evil.example/x", "boot")
    Traceback (most recent call last):
    ...
    ValueError: url must be a path on this site, such as '/sso/intercom/token'.
    """
    if not _CALLBACK.fullmatch(callback):
        raise ValueError("callback must be the name of a global function, such as 'bootIntercom'.")
    return _fetching(url, f"window[{_js_string(callback)}](b.token,b.expires_at);", nonce, again=True)


def _vendor_call(function: str, command: str, options: dict[str, str | None], token_as: str) -> str:
    """``window.<function>("<command>", {<options>, <token_as>: b.token})``, every value a safe
    literal (``None`` is ``null``)."""
    members = "".join(f"{_js_string(name)}:{'null' if value is None else _js_string(value)},"
                      for name, value in options.items())
    return f"window.{function}({_js_string(command)},{{{members}{_js_string(token_as)}:b.token}});"


def frill_widget(url: str, key: str, *, command: str = "container", nonce: str | None = None) -> str:
    """A ``<script>`` that signs the user in to the Frill Script with the token at ``url``:
    ``Frill('container', {key, ssoToken})`` ("Identifying users",
    https://developers.frill.co/frill-script/identifying-users; ``command="widget"`` for the
    older per-widget call ``Frill('widget', {key, ssoToken})``).

    :param url: the widget token path, e.g. ``/sso/frill/token`` (``services.frill(..., widget=True)``).
    :param key: your Frill Script key (public).

    >>> print(frill_widget("/sso/frill/token", "abc-123"))  # doctest: +ELLIPSIS
    <script>...window.Frill("container",{"key":"abc-123","ssoToken":b.token});...</script>
    """
    if command not in ("container", "widget"):
        raise ValueError("command is 'container' (the Frill Script) or 'widget'.")
    return _fetching(url, _vendor_call("Frill", command, {"key": key}, "ssoToken"), nonce, again=False)


def canny_widget(url: str, board_token: str, *, base_path: str | None = None,
                 nonce: str | None = None) -> str:
    """A ``<script>`` that renders Canny's feedback widget signed in with the token at ``url``:
    ``Canny('render', {boardToken, basePath, ssoToken})`` ("Single Sign-On",
    https://developers.canny.io/install/widget/sso: "Pass the token back to your app and into
    our widget"; the call is Canny's install snippet, ``ssoToken: null, // See step 3``, and
    Canny's React example, https://gist.github.com/arasmussen/67057c7cf24dbaa65161eda92fb0319f).
    Put ``<div data-canny></div>`` where the board goes.

    :param url: the widget token path, e.g. ``/sso/canny/token`` (``services.canny(..., widget=True)``).
    :param board_token: the board's token (public; Canny's board settings).
    :param base_path: the page's path that hosts the board (e.g. ``"/feedback"``), so Canny's
        links stay on it; ``None`` (Canny's default) keeps them in the widget.

    >>> print(canny_widget("/sso/canny/token", "b-1", base_path="/feedback"))  # doctest: +ELLIPSIS
    <script>...window.Canny("render",{"boardToken":"b-1","basePath":"/feedback","ssoToken":b.token});...</script>
    """
    options = {"boardToken": board_token, "basePath": base_path}
    return _fetching(url, _vendor_call("Canny", "render", options, "ssoToken"), nonce, again=False)


def featurebase_widget(url: str, organization: str, *, nonce: str | None = None) -> str:
    """A ``<script>`` that opens Featurebase's feedback widget signed in with the token at ``url``:
    ``Featurebase('initialize_feedback_widget', {organization, jwtToken})`` ("Single Sign-On
    (SSO) authentication",
    https://help.featurebase.app/articles/0874531-single-sign-on-sso-authentication-and-data-sync-setup).

    :param url: the widget token path, e.g. ``/sso/featurebase/token``
        (``services.featurebase(..., widget=True)``).
    :param organization: your Featurebase organization (public).

    >>> "jwtToken" in featurebase_widget("/sso/featurebase/token", "acme")
    True
    """
    return _fetching(url, _vendor_call("Featurebase", "initialize_feedback_widget",
                                       {"organization": organization}, "jwtToken"), nonce, again=False)


def featurebase_messenger(url: str, app_id: str, *, nonce: str | None = None) -> str:
    """A ``<script>`` that boots Featurebase's Messenger (the SDK) with the token at ``url``:
    ``Featurebase('boot', {appId, featurebaseJwt})`` ("Secure your installation",
    https://help.featurebase.app/help/articles/5402549-secure-your-installation-required-by-default).

    >>> "featurebaseJwt" in featurebase_messenger("/sso/featurebase/token", "app-1")
    True
    """
    return _fetching(url, _vendor_call("Featurebase", "boot", {"appId": app_id}, "featurebaseJwt"), nonce,
                     again=False)



def user_hash(service: Service, user: object) -> dict[str, str]:
    """The fields and hash an identity-verification widget takes (a ``UserHash`` service:
    Help Scout Beacon, Intercom's ``user_hash``, Chatwoot, ...), for a page you render yourself;
    the same answer ``{prefix}/{service}/token`` gives the page's script.

    ``user`` is what your extractor returns (a ``Principal``, a mapping or an object). Write the
    result into the page as JSON (Jinja's ``|tojson``, Django's ``json_script``), never by
    hand. A hash never expires: it proves who the user is, it is not a session.

    :param service: a preset such as ``services.helpscout_beacon(key=...)``.
    :param user: the signed-in user; one without the hashed field is a ``MissingClaim``.

    >>> from sso_middleware import services
    >>> beacon = services.helpscout_beacon(key="a-secret-of-at-least-thirty-two-bytes!")
    >>> user_hash(beacon, {"id": 7, "email": "ada@example.com", "name": "Ada"})["signature"][:12]
    '0ca06416b460'
    """
    from .placements import UserHash
    from .principal import Principal

    if not isinstance(service.destination.placement, UserHash):
        raise ValueError(f"service {service.name!r} takes a token, not a user hash: use token_script.")
    principal = Principal.coerce(user)
    if principal is None:
        raise ValueError("user: nobody is signed in.")
    answer: dict[str, str] = json.loads(service.mint(principal, 0.0))
    return answer


__all__ = ["canny_widget", "featurebase_messenger", "featurebase_widget", "frill_widget", "token_script",
           "user_hash"]
