"""The simulator's HTTP edge, byte level: what the servlet does before any command runs.

Requests are built by hand (aiohttp, query strings spelled out) so that what reaches the server
is exactly what the test says: repeated names, a missing ``command``, no ``response=json``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from yarl import URL

from stackwatch.cloudstack import CloudStackSimulator, sign, signed_params


@pytest.fixture
async def sim() -> AsyncIterator[CloudStackSimulator]:
    async with CloudStackSimulator(job_seconds=0) as running:
        yield running


async def fetch(sim: CloudStackSimulator, query: str) -> tuple[int, str, str]:
    url = URL(f"{sim.endpoint}?{query}", encoded=True)
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        return r.status, r.headers["Content-Type"], await r.text()


def signed_query(sim: CloudStackSimulator, command: str, **params: str) -> str:
    return urlencode(signed_params(command, params, *sim.admin_keys), quote_via=quote)


async def test_a_repeated_query_name_counts_with_its_last_value(sim: CloudStackSimulator) -> None:
    base = {"apiKey": sim.admin_keys.api_key, "command": "listZones", "response": "json"}
    signature = sign({**base, "name": "zone1"}, sim.admin_keys.secret_key)
    query = urlencode({**base, "signature": signature}, quote_via=quote)
    status, _, body = await fetch(sim, f"{query}&name=nope&name=zone1")
    assert status == 200 and json.loads(body)["listzonesresponse"]["count"] == 1
    status, _, _ = await fetch(sim, f"{query}&name=zone1&name=nope")
    assert status == 401  # the server saw name=nope, which is not what was signed


async def test_post_body_and_query_merge(sim: CloudStackSimulator) -> None:
    params = signed_params("listZones", {"name": "zone1"}, *sim.admin_keys)
    query = urlencode({"command": "listZones"}, quote_via=quote)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sim.endpoint}?{query}", data=params) as r:
            assert r.status == 200 and (await r.json())["listzonesresponse"]["count"] == 1


async def test_missing_command_is_401_named_null(sim: CloudStackSimulator) -> None:
    status, _, body = await fetch(sim, "apiKey=x&response=json")
    assert status == 401 and list(json.loads(body)) == ["null"]
    status, _, body = await fetch(sim, "")
    assert status == 401 and "errorresponse" in body  # no parameters at all: XML, errorresponse


async def test_without_response_json_the_answer_is_xml(sim: CloudStackSimulator) -> None:
    params = signed_params("listZones", {}, *sim.admin_keys)
    del params["response"]
    params["signature"] = sign(params, sim.admin_keys.secret_key)
    status, content_type, body = await fetch(sim, urlencode(params, quote_via=quote))
    assert status == 200 and content_type.startswith("text/xml")
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><listzonesresponse cloud-stack-version=')
    assert "<count>1</count><zone><id>" in body


async def test_control_characters_are_431(sim: CloudStackSimulator) -> None:
    status, _, body = await fetch(sim, signed_query(sim, "listZones", name="a\x01b"))
    error = json.loads(body)["listzonesresponse"]
    assert status == 431 and "non-printable characters for parameter name" in error["errortext"]


async def test_a_broken_escape_is_400_without_envelope(sim: CloudStackSimulator) -> None:
    status, content_type, _ = await fetch(sim, "command=listZones&name=%zz")
    assert status == 400 and not content_type.startswith("application/json")


async def test_unavailable_is_a_bare_503(sim: CloudStackSimulator) -> None:
    sim.set_unavailable(True)
    status, content_type, body = await fetch(sim, signed_query(sim, "listZones"))
    assert (status, content_type.split(";")[0]) == (503, "text/html") and "503" in body
    assert sim.calls["listZones"] == 1


async def test_seed_file_gives_stable_accounts_and_keys(tmp_path: Path) -> None:
    seed = {"admin": {"apikey": "AKroot", "secretkey": "SKroot"},
            "accounts": [{"name": "acme", "domain": "customers", "users": [
                {"username": "alice", "apikey": "AKalice", "secretkey": "SKalice", "state": "locked"}]}]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    ids = []
    for _ in range(2):
        async with CloudStackSimulator(seed=path) as sim:
            assert sim.admin_keys == ("AKroot", "SKroot")
            alice = sim.state.user_by_api_key("AKalice")
            assert alice is not None and alice.state == "locked"
            assert sim.state.domains[sim.state.accounts[alice.account_id].domain_id].path == "ROOT/customers"
            ids.append((alice.id, alice.account_id))
    assert ids[0] == ids[1]


def test_a_malformed_seed_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="malformed seed"):
        CloudStackSimulator(seed={"accounts": [{"users": []}]})
