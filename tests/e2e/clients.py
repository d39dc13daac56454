"""boto3 clients forced to one wire protocol.

botocore picks the first protocol of its own priority list that the service model offers (json for
CloudWatch today). To speak query or rpc-v2-cbor instead, we hand botocore a copy of its own
CloudWatch model whose ``protocols`` lists just the one we want, through botocore's documented
data-path mechanism (a directory searched before the bundled models). Nothing else changes: the
real serializer, signer, parser and retry logic run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

PROTOCOLS = {"json": "json", "query": "query", "cbor": "smithy-rpc-v2-cbor"}
_MODEL_DIRS: dict[str, Path] = {}


def model_dir(protocol: str, root: Path) -> Path:
    """A data directory holding CloudWatch's model restricted to ``protocol``."""
    if protocol not in _MODEL_DIRS:
        loader = botocore.session.get_session().get_component("data_loader")
        model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
        api_version = model["metadata"]["apiVersion"]
        model["metadata"]["protocol"] = PROTOCOLS[protocol]
        model["metadata"]["protocols"] = [PROTOCOLS[protocol]]
        target = root / protocol / "cloudwatch" / api_version
        target.mkdir(parents=True, exist_ok=True)
        (target / "service-2.json").write_text(json.dumps(model))
        _MODEL_DIRS[protocol] = root / protocol
    return _MODEL_DIRS[protocol]


def cloudwatch(endpoint: str, protocol: str, access_key: str, secret: str, root: Path, **config: Any) -> Any:
    """A CloudWatch client for ``endpoint`` speaking ``protocol`` (json, query or cbor)."""
    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.insert(0, str(model_dir(protocol, root)))
    session = boto3.session.Session(botocore_session=core, aws_access_key_id=access_key,
                                    aws_secret_access_key=secret, region_name="us-east-1")
    config = {"retries": {"max_attempts": 1, "mode": "standard"}, **config}
    client = session.client("cloudwatch", endpoint_url=endpoint, config=Config(**config))
    assert client.meta.service_model.resolved_protocol == PROTOCOLS[protocol]
    return client


def autoscaling(endpoint: str, access_key: str, secret: str, **config: Any) -> Any:
    """An Auto Scaling client for ``endpoint`` (query protocol, the only one its model declares)."""
    session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret,
                                    region_name="us-east-1")
    config = {"retries": {"max_attempts": 1, "mode": "standard"}, **config}
    return session.client("autoscaling", endpoint_url=endpoint, config=Config(**config))
