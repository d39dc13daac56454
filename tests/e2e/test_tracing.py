"""One CloudWatch call is one trace: the gateway's span, then a span per gRPC hop, in each service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("protocol", ["json", "cbor"])
def test_put_metric_data_is_one_trace_across_the_services(protocol):
    out = subprocess.run([sys.executable, "-m", "tests.e2e._traced_stack", protocol], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=90)
    spans = json.loads(out.stdout.strip().splitlines()[-1])
    by_id = {s["span_id"]: s for s in spans}
    [root] = [s for s in spans if s["name"] == "monitoring.PutMetricData"]
    assert root["kind"] == "SERVER" and root["attributes"]["rpc.method"] == "PutMetricData"
    trace = [s for s in spans if s["trace_id"] == root["trace_id"]]
    names = {(s["name"], s["kind"]) for s in trace}
    for rpc in ("/stackwatch.proto.auth.v1.AuthService/Authenticate",
                "/stackwatch.proto.metrics.v1.IngestService/PutMetricData"):
        assert (rpc, "CLIENT") in names and (rpc, "SERVER") in names, names
    # every span of the call hangs off the gateway's span: client spans under it, server spans under those
    for s in trace:
        if s is root:
            continue
        parent = by_id[s["parent"]]
        if s["kind"] == "CLIENT":
            assert parent is root
        else:
            assert parent["kind"] == "CLIENT" and parent["name"] == s["name"]
    # and no span of the call's hops is left in another trace (background calls between the
    # services, e.g. the alarm service's long polls of ingest, are their own traces)
    hops = {"/stackwatch.proto.auth.v1.AuthService/Authenticate", "/stackwatch.proto.metrics.v1.IngestService/PutMetricData"}
    assert {s["trace_id"] for s in spans if s["name"] in hops} == {root["trace_id"]}
