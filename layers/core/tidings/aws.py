"""boto3 clients and resources, built once per process (cold start), never per invocation.

Only tidings.store, tidings.bus and tidings.channels call this module.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Retries with jitter for throttling; a short connect timeout so a stuck call fails fast.
# botocore checks every request against the service model before sending it, which the
# service does again on arrival. The check is a development aid, and costs about 5% of an
# unchanged poll's wall time (docs/architecture.md): template.yaml turns it off in Lambda
# with TIDINGS_CLIENT_VALIDATION=off, while tests and local runs keep it.
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=3,
    read_timeout=10,
    parameter_validation=os.environ.get("TIDINGS_CLIENT_VALIDATION", "on") != "off",
)


@cache
def _session() -> boto3.session.Session:
    # one session: its loader reads each service model once for every client and resource
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    return _session().client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def resource(service: str) -> Any:
    return _session().resource(service, config=_CONFIG)  # type: ignore[call-overload]


def reset() -> None:
    """Forget cached clients (tests and the demo start a fresh emulated AWS)."""
    client.cache_clear()
    resource.cache_clear()
    _session.cache_clear()
