"""The whole stack (auth, ingest, alarm, gateway) on ephemeral ports, in a thread with its own event loop.

boto3 is synchronous, so the stack cannot share the test's thread: :class:`Stack` runs the same
``running()`` contexts ``stackwatch up`` uses on a private loop in a daemon thread, and the tests
talk to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from pathlib import Path
from typing import Any

from services.alarm.main import running as alarm_running
from services.auth.main import running as auth_running
from services.autoscale.main import running as autoscale_running
from services.ingest.main import running as ingest_running
from stackwatch.config import AlarmSettings, AuthSettings, AutoscaleSettings, GatewaySettings, IngestSettings
from stackwatch.supervisor import free_port

INTERNAL_KEY = b"e2e-internal-key-0123456789abcdef"
#: Seconds between the alarm scheduler's passes in the e2e stack.
ALARM_EVALUATION_INTERVAL = 0.5
#: ListDashboards' page in the test stack (CloudWatch's is 1000): small, so paging is exercised.
DASHBOARD_PAGE_SIZE = 3

TENANTS = {
    "a": {"access_key_id": "AKIATENANTA000000001", "secret_access_key": "secret-of-tenant-a-0000000000000000000000",
          "account_id": "0d5f0c4e-5b7e-4a53-9d2f-aaaaaaaaaaaa", "user": "alice"},
    "b": {"access_key_id": "AKIATENANTB000000002", "secret_access_key": "secret-of-tenant-b-0000000000000000000000",
          "account_id": "6f1c2b9a-3e4d-4c2b-8a1f-bbbbbbbbbbbb", "user": "bob"},
    # on a 2-shard cluster, a and b live on shard 0 and c on shard 1 (stackwatch.store.shard_of)
    "c": {"access_key_id": "AKIATENANTC000000003", "secret_access_key": "secret-of-tenant-c-0000000000000000000000",
          "account_id": "0d5f0c4e-5b7e-4a53-9d2f-cccccccccccc", "user": "carol"},
}


class Stack:
    """A running stack; ``endpoint`` is its CloudWatch URL.

    ``wal=False`` runs ingest without its write-ahead log, as on a cluster in production: a
    PutMetricData is acknowledged only once its INSERT is done (on a cluster: on a quorum).
    """

    def __init__(self, store_url: str, database: str, workdir: Path, *, auth: dict[str, Any] | None = None,
                 autoscale: dict[str, Any] | None = None, wal: bool = True, **gateway: Any) -> None:
        self.store_url = store_url
        self.database = database
        self.creds_file = workdir / "credentials.json"
        self.creds_file.write_text(json.dumps({"credentials": list(TENANTS.values())}))
        # the static file by default; auth={...} replaces it (e.g. with a CloudStack endpoint)
        self.auth_options = auth if auth is not None else {"credentials_file": str(self.creds_file)}
        self.gateway_options = gateway
        self.autoscale_options = autoscale or {}  # e.g. a CloudStack endpoint for the reconcilers
        self.wal_dir = workdir / "wal" if wal else None  # as `stackwatch up` runs ingest: acknowledged once logged
        self.signing_key_file = workdir / "sns-signing-key.pem"
        self.endpoint = ""
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="stackwatch-stack", daemon=True)

    def start(self) -> Stack:
        """Start and wait until the gateway listens."""
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("stack did not start within 60 s")
        if self._error:
            raise RuntimeError("stack failed to start") from self._error
        return self

    def stop(self) -> None:
        """Stop gracefully and join the thread (again: nothing)."""
        if self._loop and self._stop and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:  # noqa: BLE001 - reported to the starting thread
            self._error = e
            self._ready.set()

    async def _main(self) -> None:
        from gateway.app import start

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            auth = await stack.enter_async_context(auth_running(AuthSettings(
                bind="127.0.0.1:0", **self.auth_options), INTERNAL_KEY))
            alarm_port = free_port()  # alarm starts after ingest (which streams to it) and autoscale (which makes alarms there)
            ingest = await stack.enter_async_context(ingest_running(IngestSettings(
                bind="127.0.0.1:0", store_url=self.store_url, database=self.database,
                auth_address=f"127.0.0.1:{auth.port}", wal_dir=str(self.wal_dir) if self.wal_dir else None,
                alarm_address=f"127.0.0.1:{alarm_port}"), INTERNAL_KEY))
            autoscale = await stack.enter_async_context(autoscale_running(AutoscaleSettings(
                bind="127.0.0.1:0", store_url=self.store_url, database=f"{self.database}_autoscale",
                alarm_address=f"127.0.0.1:{alarm_port}", **self.autoscale_options), INTERNAL_KEY))
            # the gateway's port is chosen first: SNS messages name its URL
            gateway_port = self.gateway_options.pop("port", None) or free_port()
            # the same store (chDB allows one path per process), a database of its own; evaluation
            # passes every half second so alarm tests wait for periods, not for the scheduler;
            # deliveries retry quickly so retry tests wait for retries, not for backoff
            alarm = await stack.enter_async_context(alarm_running(AlarmSettings(
                bind=f"127.0.0.1:{alarm_port}", store_url=self.store_url, database=f"{self.database}_alarms",
                auth_address=f"127.0.0.1:{auth.port}", ingest_address=f"127.0.0.1:{ingest.port}",
                autoscale_address=f"127.0.0.1:{autoscale.port}", public_url=f"http://127.0.0.1:{gateway_port}",
                signing_key_file=str(self.signing_key_file), delivery_first_wait=0.05, delivery_max_wait=0.5,
                delivery_deadline=10.0, evaluation_interval=ALARM_EVALUATION_INTERVAL,
                dashboard_page_size=DASHBOARD_PAGE_SIZE), INTERNAL_KEY))
            self.auth_port, self.ingest_port, self.alarm_port = auth.port, ingest.port, alarm.port
            self.autoscale_port = autoscale.port
            runner, port = await start(GatewaySettings(
                host="127.0.0.1", port=gateway_port, auth_address=f"127.0.0.1:{auth.port}",
                ingest_address=f"127.0.0.1:{ingest.port}", alarm_address=f"127.0.0.1:{alarm.port}",
                autoscale_address=f"127.0.0.1:{autoscale.port}", **self.gateway_options))
            stack.push_async_callback(runner.cleanup)
            self.endpoint = f"http://127.0.0.1:{port}"
            self._ready.set()
            await self._stop.wait()
