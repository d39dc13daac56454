"""Scale-out latency of N groups: ExecutePolicy -> the deploy CloudStack sees -> the VM Running.

The autoscale service (its gRPC server, store on chDB in a temporary directory, one reconciler
per group) runs in this process against the CloudStack simulator (its own thread, fast jobs).
N groups (min 0, max 2, desired 0) are spread over tenants (CloudStack accounts, 10 groups
each), each with a SimpleScaling policy of +1. Once every reconciler has settled, the policy of
every group is executed at once (``--waves`` times in turn, the same way an alarm's action calls
it: ExecutePolicy with an idempotency key), and for each group the bench records:

* **to deploy**: from just before its ExecutePolicy call to the ``created`` time of its VM in the
  simulator (the deployVirtualMachine call's arrival);
* **to converge**: from the same instant until the simulator reports the VM ``Running`` and tagged
  (polled every 50 ms, so up to 50 ms late).

The simulator, the service and the bench share one process and two cores, as on a small
machine; the figures include that contention.

    .venv/bin/python bench/autoscale_bench.py --groups 1000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.autoscale.main import running  # noqa: E402
from stackwatch.cloudstack import SimulatorThread  # noqa: E402
from stackwatch.config import AutoscaleSettings  # noqa: E402
from stackwatch.proto.auth.v1 import auth_pb2  # noqa: E402
from stackwatch.proto.autoscale.v1 import autoscale_pb2 as pb  # noqa: E402
from stackwatch.proto.autoscale.v1 import autoscale_pb2_grpc  # noqa: E402
from stackwatch.rpc import TokenSigner, principal_metadata  # noqa: E402
from stackwatch.store.testing import ClickHouseServer  # noqa: E402

KEY = b"autoscale-bench-internal-key-000"
PER_TENANT = 10
VERBOSE = False


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


async def bench(groups: int, waves: int, concurrency: int, chdb: bool) -> dict[str, object]:
    """Run the benchmark; the figures."""
    with contextlib.ExitStack() as resources:
        sim = resources.enter_context(SimulatorThread(job_seconds=0.05))
        tmp = resources.enter_context(tempfile.TemporaryDirectory())
        store_url = f"chdb://{tmp}/store" if chdb else resources.enter_context(ClickHouseServer(Path(tmp) / "ch")).url
        admin = sim.admin_keys
        state = sim.state
        template, offering, zone = next(iter(state.templates)), next(iter(state.serviceofferings)), state.zone.id
        settings = AutoscaleSettings(
            bind="127.0.0.1:0", store_url=store_url, cloudstack_url=sim.endpoint,
            cloudstack_api_key=admin.api_key, cloudstack_secret_key=admin.secret_key, cloudstack_job_poll=0.05,
            reconcile_interval=60.0, settle_interval=0.2, scan_interval=300.0)
        async with running(settings, KEY) as handle:
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{handle.port}")
            stub = autoscale_pb2_grpc.AutoscaleServiceStub(channel)
            signer = TokenSigner(KEY)
            tenants = []
            for t in range((groups + PER_TENANT - 1) // PER_TENANT):
                account, _, _ = sim.add_tenant(f"bench-{t}-{uuid.uuid4().hex[:6]}")
                md = principal_metadata(signer.issue(auth_pb2.Principal(account_id=account.id, user="bench")))
                await stub.CreateLaunchConfiguration(pb.CreateLaunchConfigurationRequest(
                    launch_configuration=pb.LaunchConfiguration(name="lc", image_id=template, instance_type=offering,
                                                                zone_id=zone)), metadata=md)
                tenants.append((account.id, md))
            names = [(tenants[i // PER_TENANT], f"g{i}") for i in range(groups)]

            def fresh_token(account: str) -> tuple[tuple[str, str], ...]:
                return principal_metadata(signer.issue(auth_pb2.Principal(account_id=account, user="bench")))
            t_setup = time.monotonic()
            sem = asyncio.Semaphore(concurrency)

            async def create(tenant: tuple[str, object], name: str) -> None:
                async with sem:
                    await stub.CreateAutoScalingGroup(pb.CreateAutoScalingGroupRequest(group=pb.AutoScalingGroup(
                        name=name, min_size=0, max_size=2, desired_capacity=0, launch_configuration_name="lc",
                        default_cooldown=0, has_default_cooldown=True), has_desired_capacity=True),
                        metadata=tenant[1])
                    await stub.PutScalingPolicy(pb.PutScalingPolicyRequest(policy=pb.ScalingPolicy(
                        auto_scaling_group_name=name, policy_name="up", policy_type="SimpleScaling",
                        adjustment_type="ChangeInCapacity", scaling_adjustment=1, cooldown=0, enabled=True)),
                        metadata=tenant[1])
            await asyncio.gather(*(create(t, n) for t, n in names))
            setup = time.monotonic() - t_setup
            await asyncio.sleep(2.0)  # every reconciler's first pass
            to_deploy: list[float] = []
            to_converge: list[float] = []
            missing = 0
            for wave in range(waves):
                started: dict[tuple[str, str], float] = {}
                seen_ids = {vm.id for vm in state.vms.values()}

                async def execute(tenant: tuple[str, object], name: str, wave: int = wave,
                                  started: dict[tuple[str, str], float] = started) -> None:
                    async with sem:
                        started[(tenant[0], name)] = time.time()
                        r = await stub.ExecutePolicy(pb.ExecutePolicyRequest(
                            auto_scaling_group_name=name, policy_name="up",
                            idempotency_key=f"bench#{name}#{wave}#{uuid.uuid4()}",
                            state_reason_data=json.dumps({"threshold": 1, "recentDatapoints": [2]})),
                            metadata=fresh_token(tenant[0]))
                        if r.skipped and VERBOSE:
                            print("skipped", name, r.skipped)
                t0 = time.monotonic()
                calls = asyncio.gather(*(execute(t, n) for t, n in names))
                running_at: dict[str, float] = {}
                deadline = time.monotonic() + max(120.0, groups * 0.3)
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                    now = time.time()
                    with state.lock:
                        fresh = [vm for vm in state.vms.values() if vm.id not in seen_ids]
                        tagged = {t.resource_id for t in state.tags if t.key == "stackwatch:group"}
                    for vm in fresh:
                        if vm.state == "Running" and vm.id in tagged and vm.id not in running_at:
                            running_at[vm.id] = now
                    if len(running_at) >= groups and calls.done():
                        break
                await calls
                elapsed = time.monotonic() - t0
                by_group = {}
                with state.lock:
                    accounts = {a.id: a for a in state.accounts.values()}
                    tags = {(t.resource_id, t.key): t.value for t in state.tags}
                    fresh = [vm for vm in state.vms.values() if vm.id not in seen_ids]
                for vm in fresh:
                    group = tags.get((vm.id, "stackwatch:group"))
                    if group is not None and vm.account_id in accounts:
                        by_group[(vm.account_id, group)] = vm
                if VERBOSE:
                    print("by_group", len(by_group), len(fresh), [(vm.name, vm.account_id[:6], tags.get((vm.id, "stackwatch:group"))) for vm in fresh][:4])
                for key, t in started.items():
                    vm = by_group.get(key)
                    if vm is None or vm.id not in running_at:
                        missing += 1
                        continue
                    to_deploy.append(vm.created - t)
                    to_converge.append(running_at[vm.id] - t)
                print(f"wave {wave + 1}: {len(running_at)} of {groups} VMs running in {elapsed:.1f} s", flush=True)
            with state.lock:
                per_group: dict[tuple[str, str], int] = {}
                for vm in state.vms.values():
                    if vm.removed is None:
                        group = next((t.value for t in state.tags if t.resource_id == vm.id
                                      and t.key == "stackwatch:group"), None)
                        if group is not None:
                            per_group[(vm.account_id, group)] = per_group.get((vm.account_id, group), 0) + 1
            over = sum(1 for c in per_group.values() if c > 2)
            result = {"groups": groups, "waves": waves, "setup_s": round(setup, 1),
                "to_deploy_p50_ms": round(1000 * statistics.median(to_deploy), 1) if to_deploy else None,
                "to_deploy_p99_ms": round(1000 * pct(to_deploy, 0.99), 1) if to_deploy else None,
                "to_converge_p50_ms": round(1000 * statistics.median(to_converge), 1) if to_converge else None,
                "to_converge_p99_ms": round(1000 * pct(to_converge, 0.99), 1) if to_converge else None,
                "not_converged": missing, "groups_over_max": over}
            print(json.dumps(result, indent=2), flush=True)  # before the (slow) teardown
            await channel.close()
        return result


def main() -> None:
    """Parse arguments, run, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--waves", type=int, default=2, help="scale-outs of every group, one after the other")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--chdb", action="store_true", help="the embedded store instead of a ClickHouse 18.16 server")
    parser.add_argument("--concurrency", type=int, default=32, help="gRPC calls in flight")
    args = parser.parse_args()
    if args.verbose:
        import logging
        logging.basicConfig(level=logging.INFO)
        global VERBOSE
        VERBOSE = True
    asyncio.run(bench(args.groups, args.waves, args.concurrency, args.chdb))


if __name__ == "__main__":
    main()
