"""Notifier Lambda: an SQS batch of new items in, one digest per matching subscriber out."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tidings.notify import Notifier, process_event
from tidings.observability import logger, metrics, tracer
from tidings.settings import NotifierSettings

NOTIFIER = Notifier.from_settings(NotifierSettings.from_env())  # bad configuration fails here


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    NOTIFIER.register_lambda_context(context)
    return process_event(event, NOTIFIER)
