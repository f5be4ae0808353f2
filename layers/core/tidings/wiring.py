"""Composition root: settings in, ready-to-run poller and notifier out.

Handlers and the local demo both build their services here, so they run the same code.
"""

from __future__ import annotations

from tidings.bus.publish import Publisher
from tidings.channels import secrets
from tidings.channels.email import EmailChannel
from tidings.channels.slack import SlackChannel
from tidings.feeds.fetch import Fetcher, FetchPolicy
from tidings.feeds.topics import TopicRules
from tidings.notify import Notifier
from tidings.poll import Cadence, Poller
from tidings.settings import NotifierSettings, PollerSettings
from tidings.store.feeds import FeedStore
from tidings.store.subscribers import SubscriberStore


def build_poller(settings: PollerSettings) -> Poller:
    policy = FetchPolicy(
        read_timeout=settings.fetch_timeout,
        max_bytes=settings.max_feed_bytes,
        pool_size=settings.concurrency,
    )
    return Poller(
        store=FeedStore(settings.feeds_table),
        publisher=Publisher(settings.items_topic_arn),
        fetcher=Fetcher(policy),
        rules=TopicRules.load(settings.topic_rules_path or None),
        cadence=Cadence(settings.default_interval, settings.min_interval, settings.max_interval),
    )


def build_notifier(settings: NotifierSettings) -> Notifier:
    return Notifier(
        settings=settings,
        subscribers=SubscriberStore(settings.subscribers_table, settings.subscriptions_table),
        email=EmailChannel(settings.ses_configuration_set or None),
        slack=SlackChannel(secrets.resolve),
        topic_titles=TopicRules.load(settings.topic_rules_path or None).titles,
        token_key=secrets.resolve(settings.token_secret_name).encode(),
    )
