"""Cost of authenticating a request, and how much of the load a credential cache keeps off the provider.

Measures, in this process (no network):

* the gateway's share: rebuilding the string to sign from a botocore-signed 1000-datum request;
* the auth service's share: SigV4 verification with a cached credential;
* the cache under load: ``--requests`` lookups spread over ``--keys`` access keys (Zipf-skewed,
  as tenants are), with many lookups in flight at once, against a provider that takes
  ``--provider-ms`` per call; prints provider calls and the hit ratio;
* the same through the real CloudStack provider against the CloudStack simulator over HTTP
  (``--cloudstack-keys`` tenants, ``--cloudstack-requests`` lookups): counts the ``getUser``,
  ``getUserKeys`` and ``listAccounts`` calls CloudStack actually received.

    .venv/bin/python bench/auth_bench.py --requests 1000000 --keys 2000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway import sigv4  # noqa: E402
from services.auth.cache import CachingProvider  # noqa: E402
from services.auth.domain import Credential, verify_sigv4  # noqa: E402
from stackwatch.clock import SystemClock  # noqa: E402

AK, SK = "AKIABENCH00000000001", "bench-secret"


def _timed(label: str, fn, n: int) -> None:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    per = (time.perf_counter() - t0) / n
    print(f"{label:<48} {per * 1e6:8.1f} µs")


def signing() -> None:
    body = b"x" * 180_000  # about a gzipped 1000-datum PutMetricData
    req = AWSRequest(method="POST", url="http://127.0.0.1:8080/", data=body,
                     headers={"Content-Type": "application/x-amz-json-1.0", "Content-Encoding": "gzip",
                              "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData",
                              "x-amzn-query-mode": "true"})
    SigV4Auth(Credentials(AK, SK), "monitoring", "us-east-1").add_auth(req)
    url = urlsplit(req.url)
    headers = CIMultiDict(req.headers.items())
    headers["Host"] = url.netloc  # what the HTTP client adds
    q = sigv4.authenticate_request("POST", url.path, url.query, headers, body)
    assert verify_sigv4(SK, q.scope_date, q.region, q.service, q.string_to_sign, q.signature)
    _timed("gateway: string to sign (180 KB body, sha256)", lambda: sigv4.authenticate_request(
        "POST", url.path, url.query, headers, body), 2000)
    _timed("auth: verify signature (key derivation + HMAC)", lambda: verify_sigv4(
        SK, q.scope_date, q.region, q.service, q.string_to_sign, q.signature), 20000)


class SlowProvider:
    """A provider that takes a while per call, like a CloudStack API round trip."""

    def __init__(self, keys: int, delay: float) -> None:
        self.calls = 0
        self.delay = delay
        self.creds = {f"AK{i:06d}": Credential(f"AK{i:06d}", f"s{i}", f"acct-{i}") for i in range(keys)}

    async def lookup(self, key: str) -> Credential | None:
        """The key's credential, after the provider's delay."""
        self.calls += 1
        await asyncio.sleep(self.delay)
        return self.creds.get(key)

    async def close(self) -> None:
        """Nothing to release."""


async def cache_load(requests: int, keys: int, concurrency: int, delay: float) -> None:
    provider = SlowProvider(keys, delay)
    cache = CachingProvider(provider, SystemClock(), ttl=300, negative_ttl=30)
    weights = [1 / (i + 1) for i in range(keys)]
    picks = random.choices(list(provider.creds), weights=weights, k=requests)
    t0 = time.perf_counter()
    for i in range(0, requests, concurrency):
        await asyncio.gather(*(cache.lookup(k) for k in picks[i:i + concurrency]))
    elapsed = time.perf_counter() - t0
    s = cache.stats
    print(f"cache: {requests:,} lookups over {keys:,} keys, {concurrency} in flight, provider {delay * 1000:.0f} ms")
    print(f"  provider calls {provider.calls:,}  hits {s.hits:,}  coalesced {s.coalesced:,}  "
          f"hit ratio {s.hit_ratio:.4%}  ({requests / elapsed:,.0f} lookups/s)")


async def cloudstack_load(requests: int, keys: int, concurrency: int) -> None:
    from services.auth.cloudstack import CloudStackCredentialProvider
    from stackwatch.cloudstack import CloudStackClient, CloudStackSimulator

    async with CloudStackSimulator(job_seconds=0) as sim:
        tenants = [sim.add_tenant(f"tenant{i}")[2] for i in range(keys)]
        admin = sim.admin_keys
        client = CloudStackClient(sim.endpoint, admin.api_key, admin.secret_key, timeout=5.0)
        cache = CachingProvider(CloudStackCredentialProvider(client), SystemClock(), ttl=300, negative_ttl=30)
        weights = [1 / (i + 1) for i in range(keys)]
        picks = random.choices([t.api_key for t in tenants], weights=weights, k=requests)
        t0 = time.perf_counter()
        for i in range(0, requests, concurrency):
            found = await asyncio.gather(*(cache.lookup(k) for k in picks[i:i + concurrency]))
            assert all(f is not None for f in found)
        elapsed = time.perf_counter() - t0
        await cache.close()
        calls = {c: sim.calls[c] for c in ("getUser", "getUserKeys", "listAccounts")}
        print(f"CloudStack provider: {requests:,} lookups over {keys:,} tenants' keys, {concurrency} in flight")
        print(f"  CloudStack received {calls}  hit ratio {cache.stats.hit_ratio:.4%}  "
              f"({requests / elapsed:,.0f} lookups/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--provider-ms", type=float, default=20.0)
    parser.add_argument("--cloudstack-requests", type=int, default=100_000)
    parser.add_argument("--cloudstack-keys", type=int, default=200)
    args = parser.parse_args()
    signing()
    asyncio.run(cache_load(args.requests, args.keys, args.concurrency, args.provider_ms / 1000))
    asyncio.run(cloudstack_load(args.cloudstack_requests, args.cloudstack_keys, args.concurrency))


if __name__ == "__main__":
    main()
