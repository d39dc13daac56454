"""``stackwatch cloudstack-sim``: the seed it starts from and what it prints."""

from __future__ import annotations

import json
from pathlib import Path

from stackwatch.cloudstack import CloudStackSimulator
from stackwatch.cloudstack._sim_cli import STATE_FILE, banner, build_seed


def test_keys_are_stable_with_a_state_dir(tmp_path: Path) -> None:
    first = build_seed(None, tmp_path)
    second = build_seed(None, tmp_path)
    assert first == second
    assert (tmp_path / STATE_FILE).stat().st_mode & 0o777 == 0o600
    assert build_seed(None, None)["admin"] != build_seed(None, None)["admin"]  # per run without one


def test_a_seed_file_adds_accounts_and_may_fix_the_admin_keys(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps({"admin": {"apikey": "AK", "secretkey": "SK"},
                                     "accounts": [{"name": "acme", "users": [{"username": "alice"}]}]}))
    seed = build_seed(seed_file, tmp_path / "state")
    assert seed["admin"] == {"apikey": "AK", "secretkey": "SK"}
    assert [a["name"] for a in seed["accounts"]] == ["acme", "demo"]


def test_banner_names_the_endpoint_keys_and_settings() -> None:
    sim = CloudStackSimulator(seed=build_seed(None, None))
    text = banner(sim)
    admin = sim.admin_keys
    demo = next(u for u in sim.state.users.values() if u.username == "demo")
    for needle in (sim.endpoint, admin.api_key, admin.secret_key, str(demo.api_key), str(demo.secret_key),
                   f"STACKWATCH_AUTH_CLOUDSTACK_URL={sim.endpoint}",
                   f"STACKWATCH_AUTH_CLOUDSTACK_API_KEY={admin.api_key}",
                   f"STACKWATCH_AUTH_CLOUDSTACK_SECRET_KEY={admin.secret_key}"):
        assert needle in text
