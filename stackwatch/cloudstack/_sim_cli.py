"""``stackwatch cloudstack-sim``: the simulator in the foreground, with a demo tenant and its keys.

Keys: the root admin (StackWatch's service account: it calls ``getUser``/``getUserKeys``) and a
user-type tenant ``demo`` (with a load balancer rule ``demo-web``) get generated key pairs. With
``--state-dir`` they are written once to ``<dir>/cloudstack-sim.json`` (mode 0600) and read back
on every later start, so keys and ids stay the same across restarts; without it they are new
each run. ``--seed FILE`` adds accounts and users from a seed document (see ``_sim_state``);
the admin keys and ``demo`` tenant of the seed, when present, win over the generated ones.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from stackwatch.cloudstack._sim_server import CloudStackSimulator
from stackwatch.cloudstack._sim_state import new_key

STATE_FILE = "cloudstack-sim.json"
DEMO = "demo"


def _generated() -> dict[str, Any]:
    return {"admin": {"apikey": new_key(), "secretkey": new_key()},
            "accounts": [{"name": DEMO, "type": 0, "users": [
                {"username": DEMO, "apikey": new_key(), "secretkey": new_key(), "firstname": "Demo",
                 "lastname": "Tenant"}],
                "loadbalancerrules": [{"name": "demo-web", "publicport": 80, "privateport": 8080}]}]}


def build_seed(seed_file: Path | None, state_dir: Path | None) -> dict[str, Any]:
    """The seed to start with: ``seed_file``'s accounts plus the admin keys and demo tenant."""
    if state_dir is None:
        generated = _generated()
    else:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / STATE_FILE
        if path.exists():
            generated = json.loads(path.read_text())
        else:
            generated = _generated()
            path.write_text(json.dumps(generated, indent=2) + "\n")
            path.chmod(0o600)
    seed: dict[str, Any] = json.loads(seed_file.read_text()) if seed_file else {}
    seed.setdefault("admin", generated["admin"])
    accounts = seed.setdefault("accounts", [])
    if not any(a.get("name") == DEMO for a in accounts):
        accounts.extend(a for a in generated["accounts"] if a["name"] == DEMO)
    return seed


def banner(sim: CloudStackSimulator) -> str:
    """What to print once the simulator listens."""
    admin = sim.admin_keys
    demo = next((u for u in sim.state.users.values() if sim.state.accounts[u.account_id].name == DEMO), None)
    demo_lines = (f"  demo tenant         : account {DEMO} (accountid {demo.account_id}), "
                  f"user {demo.username}\n"
                  f"    api key           : {demo.api_key}\n    secret key        : {demo.secret_key}\n"
                  if demo else "")
    return f"""
CloudStack simulator is up (job duration {sim.job_seconds:g}s).
  endpoint            : {sim.endpoint}
  root admin          : user admin
    api key           : {admin.api_key}
    secret key        : {admin.secret_key}
{demo_lines}
Point StackWatch's auth service at it (the admin is its service account):
  export STACKWATCH_AUTH_CLOUDSTACK_URL={sim.endpoint}
  export STACKWATCH_AUTH_CLOUDSTACK_API_KEY={admin.api_key}
  export STACKWATCH_AUTH_CLOUDSTACK_SECRET_KEY={admin.secret_key}
Try it with the cs client (pip install cs), as the admin:
  export CLOUDSTACK_ENDPOINT={sim.endpoint}
  export CLOUDSTACK_KEY={admin.api_key}
  export CLOUDSTACK_SECRET={admin.secret_key}
  cs listZones
Press Ctrl-C to stop.
"""


async def run(host: str, port: int, seed_file: Path | None, job_seconds: float, state_dir: Path | None,
              stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set."""
    seed = build_seed(seed_file, state_dir)
    sim = CloudStackSimulator(host=host, port=port, job_seconds=job_seconds, seed=seed)
    async with sim:
        print(banner(sim), flush=True)
        await stop.wait()
