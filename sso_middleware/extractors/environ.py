"""Any WSGI app: the user in ``REMOTE_USER`` (the server's, an outer middleware's, or a verifier's)."""

from __future__ import annotations

from typing import Any

from ..messages import PRINCIPAL_KEY
from ..principal import Principal
from ..wiring import for_skin


@for_skin("wsgi")
def remote_user(request: Any) -> Principal | dict[str, Any] | None:
    """WSGI: the user in ``REMOTE_USER``, set by the server, an outer middleware, or this
    library's ``VerifierMiddleware`` (then with the email and name its token carried).

    >>> from werkzeug.test import EnvironBuilder
    >>> from werkzeug.wrappers import Request
    >>> remote_user(Request(EnvironBuilder(environ_overrides={"REMOTE_USER": "ada"}).get_environ()))
    {'id': 'ada'}
    """
    environ = request.environ
    value = environ.get("REMOTE_USER")
    if not value:
        return None
    principal = environ.get(PRINCIPAL_KEY)
    if isinstance(principal, Principal) and str(principal.id) == value:
        return principal
    return {"id": value}


__all__ = ["remote_user"]
