"""The ``stackwatch`` command.

``stackwatch up``
    The whole stack on this machine, the store embedded (chDB) in a data directory: auth, ingest, alarm
    and one gateway per core, each its own ``stackwatch serve`` process on local ports
    (``stackwatch.supervisor``); prints the endpoint and credentials. For trying StackWatch and
    for development. ``--one-process`` runs every component in this process instead.
``stackwatch serve <gateway|auth|ingest|alarm|autoscale>``
    One component, configured by ``STACKWATCH_*`` variables (see ``stackwatch.config``): what each
    Kubernetes pod runs.
``stackwatch cloudstack-sim``
    A fake CloudStack management server (``stackwatch.cloudstack``) in the foreground, with admin
    and demo tenant keys printed, for demos and development without a real cloud.
``stackwatch listen``
    An HTTP endpoint that confirms SNS subscriptions and prints the notifications it receives,
    signatures verified (``stackwatch.listen``): where alarm actions land in a demo.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import secrets
import signal
import string
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from stackwatch import logs, tracing
from stackwatch.config import (
    AlarmSettings,
    AuthSettings,
    AutoscaleSettings,
    CommonSettings,
    GatewaySettings,
    IngestSettings,
)
from stackwatch.supervisor import READY_FD_VARIABLE, free_port, notify_ready

LOG = logging.getLogger("stackwatch")
COMPONENTS = ("gateway", "auth", "ingest", "alarm", "autoscale")


def _stop_event(*, supervised: bool = False) -> asyncio.Event:
    """An event set on SIGINT or SIGTERM.

    Under ``stackwatch up`` (``supervised``) on SIGTERM only: its supervisor takes Ctrl-C for the
    whole stack and stops the components one by one, in order.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM,) if supervised else (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


@contextlib.asynccontextmanager
async def _gateway(settings: GatewaySettings) -> AsyncIterator[int]:
    from gateway.app import start

    runner, port = await start(settings)
    try:
        yield port
    finally:
        await runner.cleanup()


def _settle_heap() -> None:
    """Move everything allocated at start-up out of the garbage collector's sight.

    A service's start-up leaves hundreds of thousands of long-lived objects (botocore's models,
    gRPC and aiohttp internals) that every full collection would scan again, while serving
    allocates tens of thousands of short-lived ones per PutMetricData. Freezing the start-up heap
    and collecting the young generation less often keeps collection off the request path.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def demo_credentials(data_dir: Path) -> Path:
    """The demo credentials file of a data directory, generated on first use and kept."""
    path = data_dir / "demo-credentials.json"
    if not path.exists():
        alphabet = string.ascii_uppercase + string.digits
        access_key = "AKSW" + "".join(secrets.choice(alphabet) for _ in range(16))
        secret = secrets.token_urlsafe(30)[:40]
        doc = {"credentials": [{"access_key_id": access_key, "secret_access_key": secret,
                                "account_id": str(uuid.uuid4()), "user": "demo"}]}
        path.write_text(json.dumps(doc, indent=2) + "\n")
        path.chmod(0o600)
    return path


async def up(host: str, port: int, data_dir: Path, credentials: Path | None, gateways: int,
             store_url: str | None = None) -> int:
    """Run the whole stack as supervised processes until SIGINT/SIGTERM; the exit status."""
    from stackwatch.supervisor import Supervisor, free_port, stack_components

    data_dir.mkdir(parents=True, exist_ok=True)
    creds_file = credentials or demo_credentials(data_dir)
    if port == 0:
        port = free_port("127.0.0.1" if host in ("0.0.0.0", "") else host)
    stop = _stop_event()
    supervisor = Supervisor(stack_components(host=host, port=port, data_dir=data_dir, credentials=creds_file,
                                             gateways=gateways, store_url=store_url,
                                             log_format=os.environ.get("STACKWATCH_LOG_FORMAT", "text")))
    await supervisor.start()
    endpoint = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    cred = json.loads(Path(creds_file).read_text())["credentials"][0]
    processes = ", ".join(f"{name} {pid}" for name, pid in supervisor.pids.items())
    store = _shown(store_url) if store_url else f"chDB in {(data_dir / 'store').resolve()}"
    print(_banner(endpoint, cred, creds_file, store, AuthSettings().cloudstack_url, processes), flush=True)
    status = await supervisor.wait(stop)
    LOG.info("stopped")
    return status


async def up_in_one_process(host: str, port: int, data_dir: Path, credentials: Path | None) -> None:
    """Run the whole stack in this process until SIGINT/SIGTERM (one core; for debugging and profiling)."""
    from services.alarm.main import running as alarm_running
    from services.auth.main import running as auth_running
    from services.ingest.main import running as ingest_running

    data_dir.mkdir(parents=True, exist_ok=True)
    creds_file = credentials or demo_credentials(data_dir)
    store_dir = (data_dir / "store").resolve()
    stop = _stop_event()
    async with contextlib.AsyncExitStack() as stack:
        key = secrets.token_bytes(32)  # one process: the principal-token key lives and dies with it
        auth = await stack.enter_async_context(auth_running(AuthSettings(
            bind="127.0.0.1:0", credentials_file=str(creds_file)), key))
        alarm_port = free_port()  # ingest forwards watched datums to alarm, which starts after it
        ingest = await stack.enter_async_context(ingest_running(IngestSettings(
            bind="127.0.0.1:0", store_url=f"chdb://{store_dir}", auth_address=f"127.0.0.1:{auth.port}",
            wal_dir=str((data_dir / "wal").resolve()), alarm_address=f"127.0.0.1:{alarm_port}"), key))
        alarm = await stack.enter_async_context(alarm_running(AlarmSettings(
            bind=f"127.0.0.1:{alarm_port}", store_url=f"chdb://{store_dir}", auth_address=f"127.0.0.1:{auth.port}",
            ingest_address=f"127.0.0.1:{ingest.port}"), key))
        gw_port = await stack.enter_async_context(_gateway(GatewaySettings(
            host=host, port=port, auth_address=f"127.0.0.1:{auth.port}",
            ingest_address=f"127.0.0.1:{ingest.port}", alarm_address=f"127.0.0.1:{alarm.port}")))
        endpoint = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{gw_port}"
        cred = json.loads(Path(creds_file).read_text())["credentials"][0]
        print(_banner(endpoint, cred, creds_file, f"chDB in {store_dir}", AuthSettings().cloudstack_url,
                      f"all in this one, {os.getpid()}"), flush=True)
        _settle_heap()
        await stop.wait()
        LOG.info("shutting down")


def _shown(url: str) -> str:
    """A store URL as it may be printed: without a password."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]  # one host:port, or a cluster's several
    cluster = [v for k, v in parse_qsl(parts.query) if k == "cluster"]
    return f"{parts.scheme}://{hosts}{parts.path}" + (f" (cluster {cluster[0]})" if cluster else "")


def _banner(endpoint: str, cred: dict[str, str], creds_file: Path, store: str,
            cloudstack: str | None, processes: str) -> str:
    also = (f"  CloudStack          : {cloudstack} (tenants sign with their CloudStack API keys too)\n"
            if cloudstack else "")
    return f"""
StackWatch is up.
  CloudWatch endpoint : {endpoint}
  store               : {store}
  processes           : {processes}
  credentials file    : {creds_file}
  account             : {cred['account_id']} (user {cred.get('user', '')})
{also}
Use it with any AWS client:
  export AWS_ACCESS_KEY_ID={cred['access_key_id']}
  export AWS_SECRET_ACCESS_KEY={cred['secret_access_key']}
  export AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url {endpoint} cloudwatch put-metric-data --namespace MyApp \\
      --metric-name Latency --dimensions Service=web --unit Milliseconds --value 42
  aws --endpoint-url {endpoint} cloudwatch list-metrics --namespace MyApp
Press Ctrl-C to stop.
"""


async def serve(component: str) -> None:
    """Run one component configured from the environment until SIGINT/SIGTERM."""
    stop = _stop_event(supervised=READY_FD_VARIABLE in os.environ)
    async with contextlib.AsyncExitStack() as stack:
        if component == "gateway":
            await stack.enter_async_context(_gateway(GatewaySettings()))
        elif component == "auth":
            from services.auth.main import running as auth_running

            await stack.enter_async_context(auth_running(AuthSettings(), CommonSettings().internal_key_bytes()))
        elif component == "ingest":
            from services.ingest.main import running as ingest_running

            await stack.enter_async_context(ingest_running(IngestSettings(), CommonSettings().internal_key_bytes()))
        elif component == "alarm":
            from services.alarm.main import running as alarm_running

            await stack.enter_async_context(alarm_running(AlarmSettings(), CommonSettings().internal_key_bytes()))
        else:
            from services.autoscale.main import running as autoscale_running

            await stack.enter_async_context(
                autoscale_running(AutoscaleSettings(), CommonSettings().internal_key_bytes()))
        _settle_heap()
        notify_ready()
        await stop.wait()
        LOG.info("%s shutting down", component)


def _listen(args: argparse.Namespace) -> int:
    """Run ``stackwatch listen`` in the foreground until Ctrl-C."""
    from stackwatch.listen import serve

    try:
        asyncio.run(serve(args.host, args.port, not args.no_confirm))
    except KeyboardInterrupt:
        pass
    except OSError as e:  # port in use
        print(f"stackwatch listen: {e}", file=sys.stderr)
        return 1
    return 0


def _cloudstack_sim(args: argparse.Namespace) -> int:
    """Run the CloudStack simulator in the foreground until SIGINT/SIGTERM."""
    from stackwatch.cloudstack._sim_cli import run

    async def main() -> None:
        await run(args.host, args.port, args.seed, args.job_seconds, args.state_dir, _stop_event())

    logs.configure(os.environ.get("STACKWATCH_LOG_LEVEL", "INFO"), "text")
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except (OSError, ValueError) as e:  # port in use, unreadable or malformed seed
        LOG.error("%s", e)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``stackwatch`` console script."""
    parser = argparse.ArgumentParser(prog="stackwatch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="run every component in one process on the embedded store")
    p_up.add_argument("--host", default="127.0.0.1", help="gateway listen address (default 127.0.0.1)")
    p_up.add_argument("--port", type=int, default=8080, help="gateway port (default 8080; 0 = any free port)")
    p_up.add_argument("--data-dir", type=Path, default=Path(os.environ.get("STACKWATCH_DATA_DIR", "./data")),
                      help="where the embedded store and demo credentials live (default ./data)")
    p_up.add_argument("--credentials", type=Path, default=None,
                      help="static credentials JSON file (default: a generated demo credential)")
    p_up.add_argument("--gateways", type=int, default=max(1, min(os.cpu_count() or 1, 8)),
                      help="gateway processes sharing the port (default: one per core, at most 8)")
    p_up.add_argument("--store-url", default=None,
                      help="a ClickHouse server (clickhouse://host:port) instead of the embedded store")
    p_up.add_argument("--one-process", action="store_true",
                      help="run every component in this process (one core; for debugging and profiling)")
    p_serve = sub.add_parser("serve", help="run one component, configured by STACKWATCH_* variables")
    p_serve.add_argument("component", choices=COMPONENTS)
    p_sim = sub.add_parser("cloudstack-sim", help="run a fake CloudStack management server (demos, tests)")
    p_sim.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p_sim.add_argument("--port", type=int, default=8081, help="port (default 8081, next to the gateway)")
    p_sim.add_argument("--seed", type=Path, default=None, help="JSON seed file of accounts, users and keys")
    p_sim.add_argument("--job-seconds", type=float, default=2.0,
                       help="how long async jobs stay pending (default 2)")
    p_sim.add_argument("--state-dir", type=Path, default=None,
                       help="keep the generated admin and demo keys here, stable across restarts")
    p_listen = sub.add_parser("listen", help="receive SNS notifications over HTTP and print them (demos)")
    p_listen.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p_listen.add_argument("--port", type=int, default=9000, help="port (default 9000; 0 = any free port)")
    p_listen.add_argument("--no-confirm", action="store_true",
                          help="print subscription confirmations without confirming them")
    args = parser.parse_args(argv)
    if args.command == "listen":
        return _listen(args)
    if args.command == "cloudstack-sim":
        return _cloudstack_sim(args)

    common = CommonSettings()
    logs.configure(common.log_level, "text" if args.command == "up" and "STACKWATCH_LOG_FORMAT" not in os.environ
                   else common.log_format)
    service_name = "stackwatch" if args.command == "up" else f"stackwatch-{args.component}"
    tracing.configure(common.tracing, service_name)
    try:
        if args.command == "up" and args.one_process:
            asyncio.run(up_in_one_process(args.host, args.port, args.data_dir, args.credentials))
        elif args.command == "up":
            return asyncio.run(up(args.host, args.port, args.data_dir, args.credentials, max(1, args.gateways),
                                  args.store_url))
        else:
            asyncio.run(serve(args.component))
    except KeyboardInterrupt:
        pass
    except Exception as e:  # a clear last word instead of a traceback for configuration mistakes
        from stackwatch.errors import StackWatchError

        if isinstance(e, StackWatchError | OSError):
            LOG.error("%s", e)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
