"""Logic written once, run sync or awaited: a generator yields the calls it needs made.

The replay store and the verifier's flow are written as generators that
``yield`` each call to the outside world and get its answer back (or its
exception thrown in). :func:`drive` makes the calls directly (WSGI, a sync
client); :func:`adrive` awaits them (ASGI, an asyncio client). One piece of
logic, two ways to run it.

>>> def double() -> Steps[str, int]:
...     answer = yield "21"
...     return 2 * int(answer)
>>> drive(double(), lambda call: call)
42
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, NamedTuple, TypeVar

C = TypeVar("C")
T = TypeVar("T")
Steps = Generator[C, Any, T]


class AppCall(NamedTuple):
    """A call the steps need made with the framework's own request object: the skin calls
    ``hook(request)`` (and awaits what it returns when that is awaitable, on ASGI), as it calls
    the user extractor. The OpenID provider's ``end_session`` hook is one.

    >>> def end_session(request):
    ...     return [("Set-Cookie", f"{request}=; Max-Age=0")]
    >>> def steps():
    ...     headers = yield AppCall(end_session)
    ...     return headers[0][1]
    >>> drive(steps(), lambda call: call.hook("session"))  # a skin passes the framework's request
    'session=; Max-Age=0'
    """

    hook: Callable[[Any], Any]


# Both drivers are on every signed-in request's path: the loop is written out, not factored
# into a helper call per step.


def drive(steps: Steps[C, T], send: Callable[[C], Any]) -> T:
    """Run ``steps``, making each call with ``send`` (its exception is thrown into the steps)."""
    try:
        call = next(steps)
        while True:
            try:
                answer = send(call)
            except BaseException as e:
                call = steps.throw(e)
            else:
                call = steps.send(answer)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def adrive(steps: Steps[C, T], send: Callable[[C], Awaitable[Any]]) -> T:
    """Run ``steps``, awaiting each call made with ``send``. A cancellation is thrown into
    the steps too (they may note an unknown outcome) and goes on from there."""
    try:
        call = next(steps)
        while True:
            try:
                answer = await send(call)
            except BaseException as e:
                call = steps.throw(e)
            else:
                call = steps.send(answer)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


__all__ = ["AppCall", "Steps", "adrive", "drive"]
