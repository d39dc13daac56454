#!/usr/bin/env bash
# Regenerate stackwatch/proto/ from protos/. The folders under protos/ mirror the Python import path,
# so generated imports are absolute and correct without patching. CI runs this and fails on a diff.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(command -v "${PYTHON:-python3}")
rm -rf stackwatch/proto
mapfile -t files < <(cd protos && find stackwatch -name '*.proto' | sort)
(cd protos && "$PY" -m grpc_tools.protoc -I. --python_out=.. --pyi_out=.. --grpc_python_out=.. "${files[@]}")
# Package markers so the generated code imports as a regular package.
find stackwatch/proto -type d -exec sh -c 'for d; do [ -f "$d/__init__.py" ] || : > "$d/__init__.py"; done' sh {} +
