"""Digest Lambda: hourly, sends the daily and weekly digests whose local send hour has come."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tidings.observability import logger, metrics, tracer
from tidings.scheduled import DigestRun
from tidings.settings import NotifierSettings

RUN = DigestRun.from_settings(NotifierSettings.from_env())  # bad configuration fails here


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    RUN.notifier.register_lambda_context(context)
    report = RUN.run()
    report.record_metrics()
    summary = {
        "digests": dict(report.digests),
        "items": report.items_delivered,
        "failures": report.send_failures,
    }
    logger.info("digest run finished", **summary)
    return summary
