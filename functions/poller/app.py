"""Poller Lambda: runs on a schedule, polls the due feeds, publishes what is new.

No powertools Tracer here: its X-Ray SDK costs ~200 ms of cold start (see
tidings/observability.py); the function's Active tracing still records each invocation.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tidings.observability import logger, metrics
from tidings.poll import Poller
from tidings.settings import PollerSettings

SETTINGS = PollerSettings.from_env()  # bad configuration fails here, at cold start
POLLER = Poller.from_settings(SETTINGS)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = POLLER.run(
        concurrency=SETTINGS.concurrency,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    report.record_metrics()
    logger.info("poll finished", **report.summary())
    return report.summary()
