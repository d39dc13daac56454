"""CachingProvider: TTLs, negative caching, one lookup per key in flight, LRU bound, stale-while-error.

The provider under the cache is a scripted one (our own interface, not an external system): it
counts calls and answers, fails or blocks as each test says. Time is a FakeClock.
"""

from __future__ import annotations

import asyncio

import pytest

from services.auth.cache import CachingProvider
from services.auth.domain import Credential, account_number
from services.auth.provider import ProviderUnavailable, StaticCredentialProvider
from stackwatch import errors
from stackwatch.clock import FakeClock

ALICE = Credential("AKALICE", "s3cret", "acct-a", "alice")


class Scripted:
    """A provider whose answers the test controls."""

    def __init__(self, known: dict[str, Credential] | None = None) -> None:
        self.known = dict(known or {"AKALICE": ALICE})
        self.calls = 0
        self.down = False
        self.gate: asyncio.Event | None = None

    async def lookup(self, key: str) -> Credential | None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise ProviderUnavailable("backend down")
        return self.known.get(key)

    async def close(self) -> None:
        pass


def _cache(provider: Scripted, clock: FakeClock, **kw) -> CachingProvider:
    return CachingProvider(provider, clock, **{"ttl": 300, "negative_ttl": 30, "stale_ttl": 600, **kw})


async def test_hits_within_ttl_then_refreshes():
    p, clock = Scripted(), FakeClock()
    cache = _cache(p, clock)
    assert await cache.lookup("AKALICE") == ALICE
    clock.advance(299)
    assert await cache.lookup("AKALICE") == ALICE
    assert p.calls == 1
    clock.advance(1)
    await cache.lookup("AKALICE")
    assert p.calls == 2
    assert cache.stats.hits == 1 and cache.stats.misses == 2


async def test_unknown_keys_are_cached_for_the_negative_ttl():
    p, clock = Scripted(), FakeClock()
    cache = _cache(p, clock)
    assert await cache.lookup("AKNOBODY") is None
    assert await cache.lookup("AKNOBODY") is None
    assert p.calls == 1
    p.known["AKNOBODY"] = Credential("AKNOBODY", "x", "acct-n")
    clock.advance(30)
    assert (await cache.lookup("AKNOBODY")).account_id == "acct-n"


async def test_rotation_and_disabling_take_effect_within_the_ttl():
    p, clock = Scripted(), FakeClock()
    cache = _cache(p, clock)
    await cache.lookup("AKALICE")
    p.known["AKALICE"] = Credential("AKALICE", "rotated", "acct-a", "alice", active=False)
    clock.advance(300)
    got = await cache.lookup("AKALICE")
    assert got.secret_access_key == "rotated" and not got.active


async def test_one_provider_call_however_many_wait():
    p, clock = Scripted(), FakeClock()
    p.gate = asyncio.Event()
    cache = _cache(p, clock)
    waiters = [asyncio.create_task(cache.lookup("AKALICE")) for _ in range(200)]
    await asyncio.sleep(0)
    p.gate.set()
    results = await asyncio.gather(*waiters)
    assert all(r == ALICE for r in results)
    assert p.calls == 1 and cache.stats.coalesced == 199


async def test_a_waiter_giving_up_does_not_cancel_the_shared_lookup():
    p, clock = Scripted(), FakeClock()
    p.gate = asyncio.Event()
    cache = _cache(p, clock)
    impatient = asyncio.create_task(cache.lookup("AKALICE"))
    patient = asyncio.create_task(cache.lookup("AKALICE"))
    await asyncio.sleep(0)
    impatient.cancel()
    p.gate.set()
    assert await patient == ALICE
    assert p.calls == 1


async def test_stale_entries_serve_while_the_provider_is_down_for_a_bounded_time():
    p, clock = Scripted(), FakeClock()
    cache = _cache(p, clock)
    await cache.lookup("AKALICE")
    p.down = True
    clock.advance(300 + 599)
    assert await cache.lookup("AKALICE") == ALICE
    assert cache.stats.stale_served == 1
    clock.advance(1)  # ttl + stale_ttl reached
    with pytest.raises(errors.ServiceUnavailable):
        await cache.lookup("AKALICE")


async def test_unknown_key_while_the_provider_is_down_is_service_unavailable():
    p, clock = Scripted(), FakeClock()
    p.down = True
    cache = _cache(p, clock)
    with pytest.raises(errors.ServiceUnavailable) as exc:
        await cache.lookup("AKNEW")
    assert exc.value.status == 503
    p.down = False
    assert await cache.lookup("AKALICE") == ALICE  # failures are not cached


async def test_a_provider_bug_is_service_unavailable_not_a_hang():
    class Broken(Scripted):
        async def lookup(self, key: str) -> Credential | None:
            raise RuntimeError("bug")

    cache = _cache(Broken(), FakeClock())
    with pytest.raises(errors.ServiceUnavailable):
        await asyncio.wait_for(cache.lookup("AKALICE"), 1)


async def test_size_is_bounded_least_recently_used_first():
    keys = {f"AK{i}": Credential(f"AK{i}", "s", f"acct-{i}") for i in range(5)}
    p, clock = Scripted(keys), FakeClock()
    cache = _cache(p, clock, max_entries=3)
    for k in ("AK0", "AK1", "AK2"):
        await cache.lookup(k)
    await cache.lookup("AK0")  # AK1 is now the least recently used
    await cache.lookup("AK3")
    assert len(cache) == 3 and cache.stats.evictions == 1
    calls = p.calls
    await cache.lookup("AK0")
    assert p.calls == calls
    await cache.lookup("AK1")
    assert p.calls == calls + 1


def test_secrets_stay_out_of_repr():
    assert "s3cret" not in repr(ALICE) and "AKALICE" in repr(ALICE)


@pytest.mark.parametrize("uuid", ["0d5f0c4e-5b7e-4a53-9d2f-aaaaaaaaaaaa", "x"])
def test_account_numbers_are_twelve_stable_digits(uuid):
    n = account_number(uuid)
    assert len(n) == 12 and n.isdigit() and n == account_number(uuid.upper())
    assert Credential("AK", "s", uuid).account_number == n


def test_explicit_account_number_is_kept_and_checked():
    assert Credential("AK", "s", "acct", account_number="000000000042").account_number == "000000000042"
    with pytest.raises(errors.StackWatchError):
        Credential("AK", "s", "acct", account_number="42")


@pytest.mark.parametrize(("content", "fragment"), [
    ("not json", "not valid JSON"),
    ('{"creds": []}', '"credentials" list'),
    ('{"credentials": [{"access_key_id": "A", "account_id": "x"}]}', "secret_access_key"),
    ('{"credentials": [{"access_key_id": "A", "secret_access_key": "s", "account_id": "x"},'
     ' {"access_key_id": "A", "secret_access_key": "t", "account_id": "y"}]}', "twice"),
])
def test_static_file_errors_are_clear(tmp_path, content, fragment):
    path = tmp_path / "creds.json"
    path.write_text(content)
    with pytest.raises(errors.StackWatchError) as exc:
        StaticCredentialProvider.from_file(path)
    assert fragment in str(exc.value)


async def test_static_file_loads(tmp_path):
    path = tmp_path / "creds.json"
    path.write_text('{"credentials": [{"access_key_id": "A", "secret_access_key": "s", "account_id": "x",'
                    ' "user": "u", "account_number": "123456789012"}]}')
    provider = StaticCredentialProvider.from_file(path)
    got = await provider.lookup("A")
    assert (got.account_id, got.user, got.account_number) == ("x", "u", "123456789012")
    assert await provider.lookup("B") is None
