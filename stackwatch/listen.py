"""``stackwatch listen``: an HTTP endpoint that receives SNS messages and prints them (demos, debugging).

Subscribe it to a topic (``aws sns subscribe --protocol http --notification-endpoint
http://127.0.0.1:9000/``) and it does what a careful subscriber does with each POST::

    SubscriptionConfirmation   verify the signature, then GET its SubscribeURL (unless --no-confirm)
    Notification               verify the signature, print the subject and the alarm message
    UnsubscribeConfirmation    verify the signature, print it

Signatures are checked against the certificate at the message's ``SigningCertURL`` (fetched once
per URL), with SNS's algorithm (:func:`services.alarm.signing.verify`). A message whose signature
does not verify is printed as such and not acted on. Every message gets 200, so the sender does not
retry what was printed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TextIO

import aiohttp
from aiohttp import web

from services.alarm.signing import verify


class Listener:
    """The endpoint's behaviour, apart from the HTTP server that runs it.

    Args:
        out: where messages are printed.
        confirm: whether SubscriptionConfirmation messages are confirmed.
    """

    def __init__(self, out: TextIO, confirm: bool = True) -> None:
        self.out = out
        self.confirm = confirm
        self._certificates: dict[str, bytes] = {}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Release the HTTP client."""
        if self._session is not None:
            await self._session.close()

    async def _get(self, url: str) -> tuple[int, bytes]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        async with self._session.get(url) as response:
            return response.status, await response.read()

    async def _verified(self, message: dict[str, str]) -> bool:
        url = message.get("SigningCertURL", "")
        if url not in self._certificates:
            try:
                status, body = await self._get(url)
            except (aiohttp.ClientError, TimeoutError, ValueError) as e:
                self._print(f"  could not fetch the signing certificate {url}: {e}")
                return False
            if status != 200:
                self._print(f"  could not fetch the signing certificate {url}: HTTP {status}")
                return False
            self._certificates[url] = body
        return verify(message, self._certificates[url])

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    async def handle(self, request: web.Request) -> web.Response:
        """One POST: print it, and confirm it when it is a subscription confirmation."""
        try:
            message = json.loads(await request.read())
            kind = str(message["Type"])
        except (ValueError, KeyError, TypeError):
            self._print(f"{request.path}: not an SNS message")
            return web.Response(status=400, text="not an SNS message")
        signed = await self._verified(message)
        self._print(f"{message.get('Timestamp', '')} {kind} from {message.get('TopicArn', '?')} "
                    f"(signature {'verified' if signed else 'NOT VALID'})")
        if not signed:
            return web.Response(text="ignored: the signature does not verify")
        if kind == "SubscriptionConfirmation":
            await self._confirmation(message)
        elif kind == "Notification":
            self._print(f"  Subject: {message.get('Subject', '')}")
            self._print("  " + _pretty(message.get("Message", "")).replace("\n", "\n  "))
        else:
            self._print(f"  {message.get('Message', '')}")
        return web.Response(text="ok")

    async def _confirmation(self, message: dict[str, str]) -> None:
        url = message.get("SubscribeURL", "")
        if not self.confirm:
            self._print(f"  not confirmed (--no-confirm); to confirm: curl '{url}'")
            return
        try:
            status, _ = await self._get(url)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            self._print(f"  confirming failed: {e}")
            return
        self._print("  subscription confirmed" if status == 200 else f"  confirming failed: HTTP {status}")


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


async def serve(host: str, port: int, confirm: bool, out: TextIO = sys.stdout) -> None:
    """Listen on ``host:port`` until cancelled; prints the URL to subscribe first."""
    listener = Listener(out, confirm)
    app = web.Application()
    app.router.add_post("/{tail:.*}", listener.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1] if site._server else port  # type: ignore[attr-defined]
    print(f"Listening for SNS messages on http://{host}:{bound}/ (Ctrl-C stops)", file=out, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await listener.close()
        await runner.cleanup()
