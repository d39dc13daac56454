"""Apache CloudStack: our API client, and a faithful fake management server for tests and demos.

Client side::

    async with CloudStackClient("http://mgmt:8080/client/api", api_key, secret) as cs:
        zones = await cs.list_all("listZones", "zone")
        user = (await cs.call("getUser", userapikey=key))["user"]
        vm = (await cs.call_async("deployVirtualMachine", zoneid=z, serviceofferingid=o,
                                  templateid=t))["virtualmachine"]
        await cs.call_async("createTags", resourcetype="UserVm", resourceids=[vm["id"]],
                            **map_param("tags", [{"key": "sw-group", "value": "web"}]))

Server side::

    async with CloudStackSimulator(job_seconds=0.1) as sim:   # or: with SimulatorThread() as sim
        key, secret = sim.admin_keys
        ...sim.endpoint...

Modules: ``_signing`` (canonical string, HMAC, expires), ``_params`` (Python values to wire
strings, idempotency), ``_errors`` (the exception tree and which codes are transient),
``_client``; the simulator is ``_sim_state`` (rows, jobs), ``_sim_views`` (response objects),
``_sim_api`` (parameter parsing), ``_sim_commands`` and ``_sim_vm_commands`` (the commands),
``_sim_auth`` (parameter merging and ``verifyRequest``), ``_sim_server`` (HTTP, faults, thread
helper) and ``_sim_cli`` (``stackwatch cloudstack-sim``).
"""

from stackwatch.cloudstack._client import CloudStackClient
from stackwatch.cloudstack._errors import (
    TRANSIENT_CODES,
    ApiErrorCode,
    CloudStackError,
    CloudStackJobTimeout,
    CloudStackUnavailable,
)
from stackwatch.cloudstack._params import encode_params, is_idempotent, map_param
from stackwatch.cloudstack._signing import (
    EXPIRES_FORMAT,
    format_expires,
    java_urlencode,
    parse_expires,
    sign,
    signed_params,
    string_to_sign,
    verify,
)
from stackwatch.cloudstack._sim_server import CloudStackSimulator, Keys, SimulatorThread
from stackwatch.cloudstack._sim_state import SimState

__all__ = [
    "EXPIRES_FORMAT",
    "TRANSIENT_CODES",
    "ApiErrorCode",
    "CloudStackClient",
    "CloudStackError",
    "CloudStackJobTimeout",
    "CloudStackSimulator",
    "CloudStackUnavailable",
    "Keys",
    "SimState",
    "SimulatorThread",
    "encode_params",
    "format_expires",
    "is_idempotent",
    "java_urlencode",
    "map_param",
    "parse_expires",
    "sign",
    "signed_params",
    "string_to_sign",
    "verify",
]
