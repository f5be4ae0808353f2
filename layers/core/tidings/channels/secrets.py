"""Secret look-ups (webhook URLs, the token key) through powertools' cached parameters."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities import parameters

CACHE_SECONDS = 300


def resolve(reference: str) -> str:
    """The value of a Secrets Manager secret, cached for five minutes.

    A secret may hold the value itself or a JSON object with a "url" or "value" field.
    """
    text = str(parameters.get_secret(reference, max_age=CACHE_SECONDS))
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        text = str(data.get("url") or data.get("value") or "")
    if not text:
        raise ValueError(f"secret {reference} is empty")
    return text
