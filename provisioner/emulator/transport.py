"""The in-process httpx transport of an emulator: `httpx.ASGITransport` plus dropped connections.

A fault that cuts the connection raises `ConnectionDropped` inside the app; over a real socket the
client sees a truncated answer. Here the transport raises ``httpx.RemoteProtocolError`` instead, the
same error an httpx client gets from a real server that hangs up mid-answer.
"""

from __future__ import annotations

import httpx

from provisioner.emulator.faults import ASGIApp, ConnectionDropped


class EmulatorTransport(httpx.AsyncBaseTransport):
    """An `httpx.AsyncBaseTransport` that calls an emulator app in-process."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()
