"""One home for the Logger, Tracer and Metrics every handler and core module uses."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "tidings"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Tidings", service=SERVICE)
