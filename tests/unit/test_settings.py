"""Settings from the environment: required variables, integers, defaults, derived values."""

from __future__ import annotations

import pytest

from tidings.settings import ConfigError, NotifierSettings, PollerSettings

POLLER_ENV = {"FEEDS_TABLE": "feeds", "ITEMS_TOPIC_ARN": "arn:aws:sns:eu-west-1:1:items"}
NOTIFIER_ENV = {
    "SUBSCRIBERS_TABLE": "subscribers",
    "SUBSCRIPTIONS_TABLE": "subscriptions",
    "DIGEST_QUEUE_TABLE": "digest-queue",
    "DELIVERIES_TABLE": "deliveries",
    "IDEMPOTENCY_TABLE": "idempotency",
    "SENDER_ADDRESS": "Tidings Digests <digests@news.tidings.example>",
    "UNSUBSCRIBE_BASE_URL": "https://api.tidings.example",
    "TOKEN_SECRET_NAME": "tidings/token-key",
}


def test_poller_defaults_apply() -> None:
    settings = PollerSettings.from_env(POLLER_ENV)
    assert settings.feeds_table == "feeds"
    assert settings.items_topic_arn == "arn:aws:sns:eu-west-1:1:items"
    assert settings.topic_rules_path == ""
    assert settings.concurrency == 16
    assert settings.default_interval == 900
    assert settings.min_interval == 300
    assert settings.max_interval == 86400
    assert settings.max_feed_bytes == 10 * 1024 * 1024
    assert settings.fetch_timeout == 20


def test_poller_reads_overrides_as_integers() -> None:
    env = {**POLLER_ENV, "POLL_CONCURRENCY": "4", "FETCH_TIMEOUT": "7", "MAX_FEED_BYTES": "1024"}
    settings = PollerSettings.from_env(env)
    assert settings.concurrency == 4
    assert settings.fetch_timeout == 7
    assert settings.max_feed_bytes == 1024


def test_poller_concurrency_comes_from_poll_concurrency_only() -> None:
    settings = PollerSettings.from_env({**POLLER_ENV, "CONCURRENCY": "3"})
    assert settings.concurrency == 16


@pytest.mark.parametrize("value", ["many", "1.5", "8x", "0x10"])
def test_non_integer_poll_concurrency_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="POLL_CONCURRENCY") as caught:
        PollerSettings.from_env({**POLLER_ENV, "POLL_CONCURRENCY": value})
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("value", ["0", "-4"])
def test_poll_concurrency_below_one_is_a_config_error(value: str) -> None:
    # With 0 the poller starts no feed at all (poll.py only submits while running < 0) and
    # silently reports every feed "not reached" on every run: this must fail at cold start.
    with pytest.raises(ConfigError, match="POLL_CONCURRENCY"):
        PollerSettings.from_env({**POLLER_ENV, "POLL_CONCURRENCY": value})


def test_poller_missing_variables_are_all_named() -> None:
    with pytest.raises(ConfigError) as caught:
        PollerSettings.from_env({})
    message = str(caught.value)
    assert "PollerSettings" in message
    assert "FEEDS_TABLE" in message
    assert "ITEMS_TOPIC_ARN" in message


def test_notifier_missing_variables_are_all_named() -> None:
    # Given: only one of the required variables, and one set to an empty string
    env = {"SUBSCRIBERS_TABLE": "subscribers", "SENDER_ADDRESS": ""}
    # When
    with pytest.raises(ConfigError) as caught:
        NotifierSettings.from_env(env)
    # Then: every missing one is named (empty counts as missing), the present one is not
    message = str(caught.value)
    for name in (
        "SUBSCRIPTIONS_TABLE",
        "DIGEST_QUEUE_TABLE",
        "DELIVERIES_TABLE",
        "IDEMPOTENCY_TABLE",
        "SENDER_ADDRESS",
        "UNSUBSCRIBE_BASE_URL",
        "TOKEN_SECRET_NAME",
    ):
        assert name in message
    assert "SUBSCRIBERS_TABLE" not in message


def test_notifier_defaults_apply() -> None:
    settings = NotifierSettings.from_env(NOTIFIER_ENV)
    assert settings.subscribers_table == "subscribers"
    assert settings.subscriptions_table == "subscriptions"
    assert settings.token_secret_name == "tidings/token-key"
    assert settings.topic_rules_path == ""
    assert settings.list_id == "tidings digests <digests.tidings.invalid>"
    assert settings.app_name == "tidings"


def test_notifier_overrides() -> None:
    env = {**NOTIFIER_ENV, "APP_NAME": "ICMPD watch", "LIST_ID": "ICMPD <icmpd.example.org>"}
    settings = NotifierSettings.from_env(env)
    assert settings.app_name == "ICMPD watch"
    assert settings.list_id == "ICMPD <icmpd.example.org>"


def test_unsubscribe_mailto_uses_the_bare_address() -> None:
    settings = NotifierSettings.from_env(NOTIFIER_ENV)
    assert settings.unsubscribe_mailto == "mailto:digests@news.tidings.example?subject=unsubscribe"


def test_unsubscribe_mailto_from_a_bare_sender() -> None:
    settings = NotifierSettings.from_env({**NOTIFIER_ENV, "SENDER_ADDRESS": "d@x.example"})
    assert settings.unsubscribe_mailto == "mailto:d@x.example?subject=unsubscribe"


def test_parse_processes_default_to_zero_and_come_from_poll_parse_processes() -> None:
    assert PollerSettings.from_env(POLLER_ENV).parse_processes == 0
    settings = PollerSettings.from_env({**POLLER_ENV, "POLL_PARSE_PROCESSES": "2"})
    assert settings.parse_processes == 2


@pytest.mark.parametrize("value", ["-1", "9"])
def test_parse_processes_out_of_range_are_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="POLL_PARSE_PROCESSES must be between 0 and 8"):
        PollerSettings.from_env({**POLLER_ENV, "POLL_PARSE_PROCESSES": value})
