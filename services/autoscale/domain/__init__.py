"""The autoscale service's pure core: Auto Scaling's rules as functions over plain values.

No I/O, no clock, no protobuf, no grpc/aiohttp/clickhouse/tenacity.
"""

from services.autoscale.domain.model import GroupSpec, LaunchConfiguration, ScalingProcess, Tag

__all__ = ["GroupSpec", "LaunchConfiguration", "ScalingProcess", "Tag"]
