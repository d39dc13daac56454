"""Actuators: what turns a group's desired capacity into running things.

``base`` holds the interface (:class:`UnitActuator`, :class:`Unit`, slot names); ``cloudstack``
runs units as VMs in the tenant's CloudStack account; ``webhook`` hands a capacity number to the
user's HTTP endpoint, for groups whose capacity is not VMs.
"""

from services.autoscale.actuators.base import (
    ActuatorError,
    Unit,
    UnitActuator,
    launch_fingerprint,
    slot_of,
    unit_name,
)
from services.autoscale.actuators.cloudstack import CloudStackActuator
from services.autoscale.actuators.webhook import CapacityChange, WebhookActuator, sign_payload

__all__ = ["ActuatorError", "CapacityChange", "CloudStackActuator", "Unit", "UnitActuator",
           "WebhookActuator", "launch_fingerprint", "sign_payload", "slot_of", "unit_name"]
