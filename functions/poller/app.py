"""Poller Lambda: runs on a schedule, polls the due feeds, publishes what is new."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from tidings.observability import logger, metrics, tracer
from tidings.settings import PollerSettings
from tidings.wiring import build_poller

SETTINGS = PollerSettings.from_env()  # bad configuration fails here, at cold start
POLLER = build_poller(SETTINGS)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = POLLER.run(
        concurrency=SETTINGS.concurrency,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    report.record_metrics()
    logger.info("poll finished", **report.summary())
    return report.summary()
