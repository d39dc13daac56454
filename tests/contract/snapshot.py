"""Field-number snapshot of the protos, so a field is never renumbered or its number reused.

``python -m tests.contract.snapshot`` rewrites ``tests/contract/proto_fields.json`` after a
deliberate, compatible change (adding fields); the test compares against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("proto_fields.json")


def current() -> dict[str, dict[str, Any]]:
    """``{message full name: {field name: [number, type, label]}}`` for every generated message."""
    from stackwatch.proto.alarm.v1 import alarm_pb2
    from stackwatch.proto.auth.v1 import auth_pb2
    from stackwatch.proto.autoscale.v1 import autoscale_pb2
    from stackwatch.proto.metrics.v1 import metrics_pb2

    out: dict[str, dict[str, Any]] = {}

    def walk(desc: Any) -> None:
        out[desc.full_name] = {f.name: [f.number, f.type, int(f.is_repeated)] for f in desc.fields}
        for nested in desc.nested_types:
            if not nested.GetOptions().map_entry:
                walk(nested)

    for module in (alarm_pb2, auth_pb2, autoscale_pb2, metrics_pb2):
        for msg in module.DESCRIPTOR.message_types_by_name.values():
            walk(msg)
    return out


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
