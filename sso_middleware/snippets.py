"""What a page needs to use a token endpoint (``TokenEndpoint``: Intercom, Tableau).

:func:`token_script` renders a ``<script>`` that fetches the signed-in user's token from
``{prefix}/{service}/token`` (same-origin, with the session's cookies, never cached) and
hands it to a function of yours, again shortly before it expires.

>>> print(token_script("/sso/intercom/token", "bootIntercom"))  # doctest: +ELLIPSIS
<script>(function(){...window["bootIntercom"]...})();</script>
"""

from __future__ import annotations

import json
import re
from html import escape

_CALLBACK = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")


def _js_string(value: str) -> str:
    """A JavaScript string literal that is safe inside an HTML ``<script>`` element."""
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


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
    from .redirects import safe_relative_path

    if safe_relative_path(url) is None:
        raise ValueError("url must be a path on this site, such as '/sso/intercom/token'.")
    if not _CALLBACK.fullmatch(callback):
        raise ValueError("callback must be the name of a global function, such as 'bootIntercom'.")
    code = (
        "(function(){"
        f"var url={_js_string(url)};"
        "function load(){fetch(url,{credentials:\"same-origin\",cache:\"no-store\","
        "headers:{Accept:\"application/json\"}}).then(function(r){return r.json().then(function(b){"
        "if(!r.ok){console.warn(\"sso token: \"+(b.error||r.status));return;}"
        f"window[{_js_string(callback)}](b.token,b.expires_at);"
        "var wait=b.expires_at*1000-Date.now()-60000;if(wait>0){setTimeout(load,wait);}"
        "});});}"
        "load();})();"
    )
    attribute = f' nonce="{escape(nonce)}"' if nonce else ""
    return f"<script{attribute}>{code}</script>"


__all__ = ["token_script"]
