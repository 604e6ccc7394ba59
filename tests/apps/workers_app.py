"""An ASGI verifier for multi-process tests: ``uvicorn workers_app:app --workers N``.

``SSO_TEST_REDIS_PORT`` set: a RedisReplayStore on that port (asyncio client); unset: the
in-memory default. Every response says which worker answered (``X-Pid``).
"""

from __future__ import annotations

import os
from typing import Any

from sso_middleware.asgi import VerifierMiddleware

KEY = "workers-test-key-0123456789-abcdefghijklmn"
PID = str(os.getpid()).encode()


async def hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


def _store() -> Any:
    port = os.environ.get("SSO_TEST_REDIS_PORT")
    if not port:
        return None
    import redis.asyncio

    from sso_middleware import RedisReplayStore

    return RedisReplayStore(redis.asyncio.Redis(port=int(port), socket_timeout=1))


verifier = VerifierMiddleware(hello, key=KEY, replay_store=_store())


async def app(scope: Any, receive: Any, send: Any) -> None:
    async def signed(message: Any) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), (b"x-pid", PID)]}
        await send(message)

    await verifier(scope, receive, signed)
