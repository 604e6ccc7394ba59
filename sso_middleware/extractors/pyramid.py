"""Pyramid (WSGI): ``request.identity`` from your security policy, with your session factory.

Pyramid keeps its session factory and security policy in the app's registry: this
extractor makes the request Pyramid would (``pyramid.scripting.prepare``, its documented
way to run code with a request outside a view) and asks for ``request.identity``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..wiring import for_skin

if TYPE_CHECKING:
    from pyramid.router import Router


def pyramid_user(app: Router) -> Callable[[Any], Any]:
    """The extractor for a Pyramid app: the identity your security policy's ``identity(request)``
    returns (``None`` for nobody), which may read ``request.session``.

    An identity that is a mapping or an object with ``id``, ``email``, ``name`` gives all
    three; a plain user id (a string or a number) gives the ``id`` alone.

    :param app: the router ``config.make_wsgi_app()`` returned.

    >>> from pyramid.config import Configurator  # doctest: +SKIP
    >>> router = Configurator().make_wsgi_app()  # doctest: +SKIP
    >>> extractor = pyramid_user(router)  # doctest: +SKIP
    """

    @for_skin("wsgi")
    def pyramid_user(request: Any) -> Any:
        from pyramid.interfaces import IRequestFactory
        from pyramid.request import Request
        from pyramid.scripting import prepare

        factory = app.registry.queryUtility(IRequestFactory, default=Request)
        pyramid_request = factory(request.environ)
        env = prepare(request=pyramid_request, registry=app.registry)
        try:
            identity = pyramid_request.identity
        finally:
            env["closer"]()
        return {"id": identity} if isinstance(identity, (str, int)) else identity

    return pyramid_user


__all__ = ["pyramid_user"]
