"""Typed settings from the environment, validated at cold start with a clear message."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from email.utils import parseaddr
from typing import Any, Self


class ConfigError(RuntimeError):
    pass


def _read(cls: type, env: Mapping[str, str], names: Mapping[str, str]) -> dict[str, Any]:
    """Map each dataclass field to its environment variable; required fields must be set."""
    values: dict[str, Any] = {}
    missing = []
    for f in fields(cls):
        var = names.get(f.name, f.name.upper())
        raw = env.get(var)
        if raw is None or raw == "":
            if f.default is MISSING and f.default_factory is MISSING:
                missing.append(var)
            continue
        try:
            values[f.name] = int(raw) if f.type in ("int", int) else raw
        except ValueError:
            raise ConfigError(f"{var} must be a whole number, not {raw!r}") from None
    if missing:
        raise ConfigError(f"{cls.__name__}: missing environment variables: {', '.join(missing)}")
    return values


@dataclass(frozen=True, slots=True)
class PollerSettings:
    feeds_table: str
    items_topic_arn: str
    topic_rules_path: str = ""  # empty: the bundled rules
    concurrency: int = 16
    default_interval: int = 900  # seconds between polls of a healthy feed
    min_interval: int = 300
    max_interval: int = 86400
    max_feed_bytes: int = 10 * 1024 * 1024
    fetch_timeout: int = 20
    # Child processes that parse feed bodies on other vCPUs (0: parse in the poller's own
    # process). Lambda gives a vCPU per 1,769 MB: at 3,538 MB, 1 uses the second one.
    parse_processes: int = 0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError("POLL_CONCURRENCY must be at least 1")
        if not 0 <= self.parse_processes <= 8:
            raise ConfigError("POLL_PARSE_PROCESSES must be between 0 and 8")
        if not 0 < self.min_interval <= self.default_interval <= self.max_interval:
            raise ConfigError("need 0 < MIN_INTERVAL <= DEFAULT_INTERVAL <= MAX_INTERVAL")
        if self.max_feed_bytes < 1024 or self.fetch_timeout < 1:
            raise ConfigError("MAX_FEED_BYTES must be >= 1024 and FETCH_TIMEOUT >= 1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        names = {"concurrency": "POLL_CONCURRENCY", "parse_processes": "POLL_PARSE_PROCESSES"}
        return cls(**_read(cls, env, names))


@dataclass(frozen=True, slots=True)
class NotifierSettings:
    subscribers_table: str
    subscriptions_table: str
    digest_queue_table: str
    deliveries_table: str
    idempotency_table: str
    sender_address: str
    unsubscribe_base_url: str
    # Secrets Manager secret holding the key that signs unsubscribe tokens
    token_secret_name: str
    topic_rules_path: str = ""
    list_id: str = "tidings digests <digests.tidings.invalid>"
    app_name: str = "tidings"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        return cls(**_read(cls, env, {}))

    @property
    def unsubscribe_mailto(self) -> str:
        return f"mailto:{parseaddr(self.sender_address)[1]}?subject=unsubscribe"


@dataclass(frozen=True, slots=True)
class UnsubscribeSettings:
    subscribers_table: str
    subscriptions_table: str
    token_secret_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        return cls(**_read(cls, env, {}))
