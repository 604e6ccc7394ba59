"""Flask (WSGI): Flask-Login's ``current_user``, or a value in Flask's ``session``.

Flask keeps its user and session inside the app, behind its request context: these
extractors push one (``app.request_context(environ)``, Flask's documented way to work
with a request outside a view) and read the user exactly as a view would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..principal import Principal
from ..wiring import for_skin

if TYPE_CHECKING:
    from flask import Flask


def _principal(user: Any) -> Principal | None:
    """A Flask-Login user: ``is_authenticated``, and ``id`` (or ``get_id()``), email and name."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    found = getattr(user, "id", None)
    identity = found if found is not None else user.get_id()
    return Principal(identity, getattr(user, "email", None), getattr(user, "name", None))


def flask_login_user(app: Flask) -> Callable[[Any], Principal | None]:
    """The extractor for a Flask app that signs users in with Flask-Login: ``current_user``,
    loaded by your ``@login_manager.user_loader`` (remember-me cookies included).

    The user's ``id`` (or ``get_id()``), ``email`` and ``name`` become the principal. Wrap
    ``app.wsgi_app``, as Flask's docs do for WSGI middleware.

    :param app: your ``Flask`` app (the one ``LoginManager`` was set up on).

    >>> from flask import Flask
    >>> app = Flask(__name__)
    >>> flask_login_user(app).__name__
    'flask_login_user'
    """

    @for_skin("wsgi")
    def flask_login_user(request: Any) -> Principal | None:
        from flask_login import current_user

        with app.request_context(request.environ):
            return _principal(current_user)

    return flask_login_user


def flask_session(app: Flask, key: str = "user") -> Callable[[Any], Any]:
    """The extractor for a Flask app that keeps its user in ``session[key]`` (a mapping with
    ``id``, ``email``, ``name``), read through the app's own session interface.

    :param app: your ``Flask`` app (its ``secret_key`` signs the session cookie).
    :param key: the session key your login view writes.

    >>> from flask import Flask
    >>> flask_session(Flask(__name__), "user").__name__
    'flask_session'
    """

    @for_skin("wsgi")
    def flask_session(request: Any) -> Any:
        from flask import session

        with app.request_context(request.environ):
            return session.get(key)

    return flask_session


__all__ = ["flask_login_user", "flask_session"]
