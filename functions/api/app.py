"""API Lambda: the unsubscribe page and RFC 8058 one-click unsubscribe."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tidings.observability import logger, metrics, tracer
from tidings.settings import UnsubscribeSettings
from tidings.unsubscribe import Unsubscriber, build_app

APP = build_app(Unsubscriber.from_settings(UnsubscribeSettings.from_env()))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return APP.resolve(event, context)
