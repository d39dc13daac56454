"""The two AWS APIs the gateway speaks, described by botocore's service models.

botocore ships the authoritative models (``botocore/data/<service>/<version>/service-2.json``):
every operation, shape, constraint and error code. The codecs never hard-code an operation; they
walk these models. This module loads each model once (module-level cache) and wraps it in a
:class:`Service` that adds the few facts the models leave implicit, e.g. the Smithy namespace used
in ``__type``, which error classes report validation failures and how their messages are worded
(:class:`Wording`).

Three services exist, :data:`CLOUDWATCH` (query, json 1.0 and rpc-v2-cbor), :data:`AUTOSCALING`
and :data:`SNS` (query only). Lookups by the keys a request carries (query ``Version``, json/cbor target prefix,
SigV4 signing name) are the ``by_*`` helpers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import botocore.session
from botocore.model import OperationModel, ServiceModel

from gateway.awsproto.request import Protocol
from stackwatch import errors


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The botocore model for ``name`` (``cloudwatch``, ``autoscaling``), loaded once per process.

    Auto Scaling's instance ids are CloudStack VM UUIDs (36 characters), not EC2's ``i-`` ids
    (at most 19): its ``XmlStringMaxLen19`` shape, used only for instance ids, is widened to 36.
    """
    model = botocore.session.get_session().get_service_model(name)
    if name == "autoscaling":
        shapes = model._shape_resolver._shape_map  # noqa: SLF001 - the one place the model is amended
        shapes["XmlStringMaxLen19"] = {**shapes["XmlStringMaxLen19"], "max": 36}
    return model


class Wording(StrEnum):
    """How a service words a parameter that breaks a model constraint (length, size, range, enum).

    AWS's services differ here, and clients show the message verbatim, so each :class:`Service`
    names its style and the request walk renders every violation in it.
    """

    #: CloudWatch's metric API (query-compatible): the query-style path, a sentence per rule, no
    #: value. ``The parameter Namespace must be shorter than 256 characters.``, ``The collection
    #: MetricData must not have a size greater than 20.``, ``The parameter MetricData.member.1.Unit
    #: must be a value in the set [ Seconds, ..., None ].``
    PARAMETER = "parameter"
    #: The generic AWS validation message Auto Scaling (and CloudWatch's alarm API) answers with:
    #: the value, a camelCase path with the list index before ``member``, the violated rule.
    #: ``1 validation error detected: Value 'x' at 'tags.6.member.key' failed to satisfy
    #: constraint: Member must have length less than or equal to 128``
    CONSTRAINT = "constraint"
    #: SNS: ``Invalid parameter: <Name>``, the offending member's query path and nothing more.
    #: ``Invalid parameter: TopicArn``
    SNS = "sns"


@dataclass(frozen=True, slots=True)
class Service:
    """An AWS API as the gateway sees it.

    Attributes:
        name: botocore's service name (``cloudwatch``).
        signing_name: the SigV4 scope service / endpoint prefix (``monitoring``).
        api_version: the query ``Version`` (``2010-08-01``).
        target_prefix: the json ``X-Amz-Target`` prefix and cbor path segment
            (``GraniteServiceVersion20100801``); None for query-only services.
        xml_namespace: the ``xmlns`` of query responses.
        smithy_namespace: the part before ``#`` in json/cbor ``__type`` (``com.amazonaws.cloudwatch``).
        protocols: the protocols the model declares.
        invalid_value: the error raised for a malformed or out-of-constraint parameter.
        missing_parameter: the error raised for an absent required parameter.
        wording: how messages about broken model constraints read (see :class:`Wording`).
        model: the botocore model.
        error_shapes: error code -> names of the model's error shapes with that code (and each
            shape's own name -> itself), in model order.
    """

    name: str
    signing_name: str
    api_version: str
    target_prefix: str | None = field(repr=False)
    xml_namespace: str = field(repr=False)
    smithy_namespace: str = field(repr=False)
    protocols: frozenset[Protocol] = field(repr=False)
    invalid_value: type[errors.ServiceError] = field(repr=False)
    missing_parameter: type[errors.ServiceError] = field(repr=False)
    wording: Wording = field(repr=False)
    model: ServiceModel = field(repr=False, compare=False)
    error_shapes: Mapping[str, tuple[str, ...]] = field(repr=False, compare=False)

    def has_operation(self, name: str) -> bool:
        """Whether the model defines the operation ``name`` (case-sensitive)."""
        return name in _operation_names(self.name)

    def operation_model(self, name: str) -> OperationModel:
        """The botocore model of operation ``name`` (cached by botocore)."""
        return self.model.operation_model(name)


@functools.cache
def _operation_names(service_name: str) -> frozenset[str]:
    return frozenset(service_model(service_name).operation_names)


def _error_shapes(model: ServiceModel) -> dict[str, tuple[str, ...]]:
    by_code: dict[str, list[str]] = {}
    for shape in model.error_shapes:
        code = (shape.metadata.get("error") or {}).get("code", shape.name)
        by_code.setdefault(code, []).append(shape.name)
    for shape in model.error_shapes:
        by_code.setdefault(shape.name, [shape.name])
    return {code: tuple(names) for code, names in by_code.items()}


def _load(name: str, smithy_namespace: str, invalid_value: type[errors.ServiceError],
          missing_parameter: type[errors.ServiceError], wording: Wording) -> Service:
    model = service_model(name)
    meta = model.metadata
    return Service(
        name=name,
        signing_name=meta.get("signingName", meta["endpointPrefix"]),
        api_version=meta["apiVersion"],
        target_prefix=meta.get("targetPrefix"),
        xml_namespace=meta["xmlNamespace"],
        smithy_namespace=smithy_namespace,
        protocols=frozenset(Protocol(p) for p in meta.get("protocols", [meta["protocol"]])),
        invalid_value=invalid_value,
        missing_parameter=missing_parameter,
        wording=wording,
        model=model,
        error_shapes=_error_shapes(model),
    )


#: CloudWatch: query-compatible, so validation failures use its query codes, worded as its metric
#: API words them. (Its alarm API answers ``ValidationError`` in the CONSTRAINT wording instead;
#: the gateway serves no alarm operation yet.)
CLOUDWATCH = _load("cloudwatch", "com.amazonaws.cloudwatch",
                   errors.InvalidParameterValue, errors.MissingParameter, Wording.PARAMETER)
#: Auto Scaling answers every validation failure with ``ValidationError`` (it has no
#: InvalidParameterValue or MissingParameter error shape), in the generic constraint wording.
AUTOSCALING = _load("autoscaling", "com.amazonaws.autoscaling",
                    errors.ValidationError, errors.ValidationError, Wording.CONSTRAINT)

#: SNS (query only, XML namespace ``http://sns.amazonaws.com/doc/2010-03-31/``, signing name
#: ``sns``) answers a bad or missing parameter with ``InvalidParameter`` (its shape
#: InvalidParameterException), worded ``Invalid parameter: <Name>``; its other errors are
#: ``NotFound`` (404), ``AuthorizationError`` (403) and ``InternalError`` (500).
SNS = _load("sns", "com.amazonaws.sns", errors.InvalidParameter, errors.InvalidParameter, Wording.SNS)

SERVICES: tuple[Service, ...] = (CLOUDWATCH, AUTOSCALING, SNS)

_BY_VERSION = {s.api_version: s for s in SERVICES}
_BY_SIGNING_NAME = {s.signing_name: s for s in SERVICES}
_BY_TARGET_PREFIX = {s.target_prefix: s for s in SERVICES if s.target_prefix}


def by_version(version: str | None) -> Service | None:
    """The service whose query API version is ``version`` (``2010-08-01`` -> CloudWatch)."""
    return _BY_VERSION.get(version or "")


def by_signing_name(name: str | None) -> Service | None:
    """The service whose SigV4 scope name is ``name`` (``monitoring`` -> CloudWatch)."""
    return _BY_SIGNING_NAME.get(name or "")


def by_target_prefix(prefix: str | None) -> Service | None:
    """The service whose json/cbor target prefix is ``prefix``."""
    return _BY_TARGET_PREFIX.get(prefix or "")
