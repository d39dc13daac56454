"""Run the stack with tracing into memory, make one PutMetricData call, print the spans as JSON.

Run as a separate process by ``test_tracing.py``: tracing is configured once per process, before
the aiohttp application and gRPC servers exist, and the e2e session's stack runs untraced.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from stackwatch import tracing


def main() -> None:
    exporter = InMemorySpanExporter()
    assert tracing.configure("none", "stackwatch-test", processor=SimpleSpanProcessor(exporter))
    from tests.e2e.clients import cloudwatch
    from tests.e2e.stack import TENANTS, Stack

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stack = Stack(f"chdb://{root / 'store'}", "traced", root).start()
        try:
            t = TENANTS["a"]
            cw = cloudwatch(stack.endpoint, sys.argv[1], t["access_key_id"], t["secret_access_key"], root / "models")
            exporter.clear()
            cw.put_metric_data(Namespace="Traced", MetricData=[{"MetricName": "M", "Value": 1.0}])
        finally:
            stack.stop()
    spans = [{"name": s.name, "kind": s.kind.name, "trace_id": f"{s.context.trace_id:032x}",
              "span_id": f"{s.context.span_id:016x}",
              "parent": f"{s.parent.span_id:016x}" if s.parent else None,
              "attributes": {k: str(v) for k, v in (s.attributes or {}).items()}}
             for s in exporter.get_finished_spans()]
    print(json.dumps(spans))


if __name__ == "__main__":
    main()
