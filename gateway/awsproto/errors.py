"""How a :class:`~stackwatch.errors.ServiceError` is named on the wire, shared by the three codecs.

The error itself (code, HTTP status, whose fault) comes from :mod:`stackwatch.errors`; this module
only answers the protocol-independent naming questions:

- query XML wants ``<Type>Sender|Receiver</Type>`` and ``<Code>`` = the query code;
- json and cbor want ``__type`` = ``<smithy namespace>#<error shape name>``, the message under the
  member name that shape uses (``Message`` on InternalServiceFault, ``message`` elsewhere), and,
  because CloudWatch is ``awsQueryCompatible``, the header ``x-amzn-query-error: <Code>;<Type>``
  from which clients recover the query code.

The shape for a code is the model error shape whose ``error.code`` equals it, preferring one the
operation declares (``ResourceNotFound`` is DashboardNotFoundError for GetDashboard, ResourceNotFound
elsewhere). Codes no shape carries (``Throttling``, ``SignatureDoesNotMatch``, ...) are their own
``__type``. An error's other members (:attr:`~stackwatch.errors.ServiceError.members`, such as
PutDashboard's ``dashboardValidationMessages``) are written along that shape by
:func:`member_values`, so each protocol spells them as its parser expects.
"""

from __future__ import annotations

from typing import Any

from botocore.model import StructureShape

from gateway.awsproto.model import Service
from stackwatch.errors import ServiceError

QUERY_ERROR_HEADER = "x-amzn-query-error"


def fault(error: ServiceError) -> str:
    """``Sender`` when the client is to blame, else ``Receiver``."""
    return "Sender" if error.sender_fault else "Receiver"


def query_error(error: ServiceError) -> str:
    """The ``x-amzn-query-error`` header value, e.g. ``InvalidParameterValue;Sender``."""
    return f"{error.code};{fault(error)}"


def error_shape_name(service: Service, code: str, operation_name: str | None) -> str:
    """The model error shape reported for ``code`` (the code itself when no shape has it)."""
    names = service.error_shapes.get(code)
    if not names:
        return code
    if len(names) > 1 and operation_name and service.has_operation(operation_name):
        declared = {s.name for s in service.operation_model(operation_name).error_shapes}
        for name in names:
            if name in declared:
                return name
    return code if code in names else names[0]


def error_type(service: Service, error: ServiceError, operation_name: str | None) -> tuple[str, str]:
    """The json/cbor ``__type`` value and the member name that carries the message."""
    shape_name = error_shape_name(service, error.code, operation_name)
    message_key = "message"
    if shape_name in service.model.shape_names:
        shape = service.model.shape_for(shape_name)
        members = shape.members if isinstance(shape, StructureShape) else {}
        if "Message" in members and "message" not in members:
            message_key = "Message"
    return f"{service.smithy_namespace}#{shape_name}", message_key


def members_shape(service: Service, error: ServiceError, operation_name: str | None) -> StructureShape | None:
    """The error shape that defines ``error.members`` (None when it has none, or no shape has the code)."""
    if not error.members:
        return None
    shape_name = error_shape_name(service, error.code, operation_name)
    if shape_name not in service.model.shape_names:
        return None
    shape = service.model.shape_for(shape_name)
    return shape if isinstance(shape, StructureShape) else None


def member_values(error: ServiceError, shape: StructureShape) -> dict[str, Any]:
    """``error.members`` limited to those ``shape`` defines (never the message)."""
    return {k: v for k, v in error.members.items() if k in shape.members and k.lower() != "message"}
