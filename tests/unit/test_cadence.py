"""Daily and weekly send times in the subscriber's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tidings.cadence import next_send_at
from tidings.model import Subscriber


def daily(hour: int, zone: str) -> Subscriber:
    return Subscriber("s", "email", "s@example.org", cadence="daily", send_hour=hour, timezone=zone)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # Vienna in winter (UTC+1) and summer (UTC+2): always 08:00 local
        ("Europe/Vienna", "2026-01-15T06:00", "2026-01-15T07:00"),
        ("Europe/Vienna", "2026-07-15T05:00", "2026-07-15T06:00"),
        # already past today's hour: tomorrow
        ("Europe/Vienna", "2026-01-15T07:00", "2026-01-16T07:00"),
        # across the spring-forward night (29 March 2026) and the fall-back night (25 October)
        ("Europe/Vienna", "2026-03-28T07:30", "2026-03-29T06:00"),
        ("Europe/Vienna", "2026-10-24T06:30", "2026-10-25T07:00"),
        # half-hour and 45-minute offsets
        ("Asia/Kolkata", "2026-05-01T00:00", "2026-05-01T02:30"),
        ("Asia/Kathmandu", "2026-05-01T00:00", "2026-05-01T02:15"),
        # a zone ahead of UTC across the date line
        ("Pacific/Auckland", "2026-05-01T12:00", "2026-05-01T20:00"),
    ],
)
def test_daily_send_time_is_the_local_hour(zone, now, expected):
    assert next_send_at(daily(8, zone), utc(now)) == utc(expected)


def test_a_send_hour_inside_the_spring_forward_gap_falls_after_the_gap():
    # 02:00 does not exist in Vienna on 29 March 2026; the digest goes at 03:00 CEST = 01:00 UTC
    assert next_send_at(daily(2, "Europe/Vienna"), utc("2026-03-28T23:00")) == utc(
        "2026-03-29T01:00"
    )


def test_an_hour_that_happens_twice_is_sent_at_the_first():
    # 02:00 happens twice in Vienna on 25 October 2026: first at 00:00 UTC (CEST)
    assert next_send_at(daily(2, "Europe/Vienna"), utc("2026-10-24T23:00")) == utc(
        "2026-10-25T00:00"
    )


def test_weekly_goes_on_the_chosen_weekday():
    monday_9 = Subscriber(
        "w",
        "email",
        "w@example.org",
        cadence="weekly",
        send_hour=9,
        weekday=0,
        timezone="America/New_York",
    )
    # Wednesday 2026-11-25 -> Monday 2026-11-30 09:00 EST = 14:00 UTC
    assert next_send_at(monday_9, utc("2026-11-25T12:00")) == utc("2026-11-30T14:00")
    # on Monday after 09:00 local -> the next Monday
    assert next_send_at(monday_9, utc("2026-11-30T14:00")) == utc("2026-12-07T14:00")
