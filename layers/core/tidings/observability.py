"""One home for the Logger, Tracer and Metrics every handler and core module uses.

The Tracer is created on first use: importing the X-Ray SDK builds an X-Ray client for
sampling rules at import time, about 200 ms of cold start. The notifier uses it; the
poller, whose cold start is a benchmark target, relies on the function's Active tracing.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = "tidings"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Tidings", service=SERVICE)


def __getattr__(name: str) -> Any:
    if name == "tracer":
        from aws_lambda_powertools import Tracer  # noqa: PLC0415 - see the module docstring

        globals()["tracer"] = Tracer(service=SERVICE)
        return globals()["tracer"]
    raise AttributeError(name)
