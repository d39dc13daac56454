"""A cache in front of a credential provider that protects the provider and survives its outages.

A million signed requests a minute must not become a million CloudStack calls, and a CloudStack
that is down must not take StackWatch down with it::

    lookup(key) ── fresh entry? ───────────────────────────────> answer (hit)
         │ no
         ├── a lookup of this key already running? ── await it ─> answer (coalesced)
         │ no
         └── ask the provider (once) ──┬── found / unknown ─────> store (ttl / negative_ttl), answer
                                       └── ProviderUnavailable ─┬─ a known entry younger than
                                                                │  stale_ttl: answer it (stale)
                                                                └─ else raise ServiceUnavailable

* Good entries live ``ttl`` seconds, unknown keys ``negative_ttl`` (shorter, so a key created a
  moment ago starts working soon). Rotating or disabling a key takes effect within ``ttl``.
* Exactly one provider call per key is in flight, however many requests wait on it; a waiter
  that gives up (its RPC deadline) does not cancel the shared lookup.
* At most ``max_entries`` keys are kept; the least recently used go first.
* When the provider fails, a known key keeps working on its last answer for up to ``stale_ttl``
  seconds past its expiry; unknown keys get ``ServiceUnavailable`` (retryable), never a hang.

Counters in :attr:`CachingProvider.stats` feed logs and the auth benchmark's hit ratio.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from services.auth.domain import Credential
from services.auth.provider import CredentialProvider, ProviderUnavailable
from stackwatch import errors
from stackwatch.clock import Clock

LOG = logging.getLogger(__name__)


@dataclass(slots=True)
class _Entry:
    credential: Credential | None
    expires: float
    stale_until: float


@dataclass
class CacheStats:
    """Counters since start."""

    hits: int = 0
    misses: int = 0
    coalesced: int = 0
    stale_served: int = 0
    provider_calls: int = 0
    provider_failures: int = 0
    evictions: int = 0

    @property
    def hit_ratio(self) -> float:
        """Share of lookups answered without calling the provider."""
        total = self.hits + self.misses + self.coalesced
        return (self.hits + self.coalesced) / total if total else 0.0


class CachingProvider:
    """A :class:`~services.auth.provider.CredentialProvider` with the caching described above.

    Args:
        provider: the provider to protect.
        clock: time source (tests drive a fake one).
        ttl: seconds a found credential stays fresh.
        negative_ttl: seconds an unknown key stays cached as unknown (0 disables).
        stale_ttl: seconds past expiry a found credential may still be served while the provider fails.
        max_entries: most keys kept.
    """

    def __init__(self, provider: CredentialProvider, clock: Clock, *, ttl: float = 300.0,
                 negative_ttl: float = 30.0, stale_ttl: float = 3600.0, max_entries: int = 100_000) -> None:
        if ttl <= 0 or negative_ttl < 0 or stale_ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be > 0, negative_ttl and stale_ttl >= 0, max_entries >= 1")
        self._provider = provider
        self._clock = clock
        self._ttl, self._negative_ttl, self._stale_ttl = ttl, negative_ttl, stale_ttl
        self._max = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Credential | None]] = {}
        self._tasks: set[asyncio.Future[None]] = set()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    async def lookup(self, access_key_id: str) -> Credential | None:
        """The credential of ``access_key_id`` (None: unknown), from cache when fresh.

        Raises:
            ServiceUnavailable: the provider failed and there is no usable stale answer.
        """
        entry = self._entries.get(access_key_id)
        if entry is not None and self._clock.now() < entry.expires:
            self._entries.move_to_end(access_key_id)
            self.stats.hits += 1
            return entry.credential
        running = self._inflight.get(access_key_id)
        if running is not None:
            self.stats.coalesced += 1
            return await asyncio.shield(running)
        self.stats.misses += 1
        future: asyncio.Future[Credential | None] = asyncio.get_running_loop().create_future()
        # Mark the outcome retrieved even if every waiter gave up before it came.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._inflight[access_key_id] = future
        self._tasks.add(task := asyncio.ensure_future(self._refresh(access_key_id, future)))
        task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future)

    async def _refresh(self, access_key_id: str, future: asyncio.Future[Credential | None]) -> None:
        try:
            self.stats.provider_calls += 1
            try:
                found = await self._provider.lookup(access_key_id)
            except ProviderUnavailable as e:
                self.stats.provider_failures += 1
                future.set_result(self._stale_or_raise(access_key_id, e))
                return
            except Exception as e:  # a provider bug must not wedge every waiter on this key
                self.stats.provider_failures += 1
                LOG.exception("credential provider failed unexpectedly")
                future.set_result(self._stale_or_raise(access_key_id, e))
                return
            self._store(access_key_id, found)
            future.set_result(found)
        except errors.ServiceError as e:
            future.set_exception(e)
        finally:
            self._inflight.pop(access_key_id, None)
            if not future.done():
                future.set_exception(errors.ServiceUnavailable("The credential lookup was interrupted."))

    def _stale_or_raise(self, access_key_id: str, cause: Exception) -> Credential | None:
        entry = self._entries.get(access_key_id)
        now = self._clock.now()
        if entry is not None and entry.credential is not None and now < entry.stale_until:
            self.stats.stale_served += 1
            LOG.warning("credential provider unavailable (%s); serving a cached key %.0f s past its ttl",
                        type(cause).__name__, now - entry.expires)
            return entry.credential
        LOG.warning("credential provider unavailable (%s) and no cached answer for the key", type(cause).__name__)
        raise errors.ServiceUnavailable(
            "The credentials service is temporarily unavailable. Please try again shortly.") from cause

    def _store(self, access_key_id: str, credential: Credential | None) -> None:
        now = self._clock.now()
        if credential is None:
            if self._negative_ttl <= 0:
                self._entries.pop(access_key_id, None)
                return
            entry = _Entry(None, now + self._negative_ttl, now + self._negative_ttl)
        else:
            entry = _Entry(credential, now + self._ttl, now + self._ttl + self._stale_ttl)
        self._entries[access_key_id] = entry
        self._entries.move_to_end(access_key_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
            self.stats.evictions += 1

    async def close(self) -> None:
        """Wait for lookups in flight, then close the provider."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._provider.close()
