"""Shared fixtures: the ICMPD feed, topic rules, emulated AWS, a local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tidings.feeds.topics import TopicRules
from tidings.local.demo import icmpd_fixture
from tidings.local.httpserver import LocalServer
from tidings.local.stack import Stack, emulated_aws

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def icmpd_bytes() -> bytes:
    return icmpd_fixture()


@pytest.fixture(scope="session")
def rules() -> TopicRules:
    return TopicRules.load()


@pytest.fixture
def stack() -> Iterator[Stack]:
    """A fresh emulated AWS account with every table, the topic and the queues."""
    with emulated_aws("test") as created:
        yield created


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running
