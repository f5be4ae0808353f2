"""When a daily or weekly digest is due, in the subscriber's own time zone.

Computed with zoneinfo on local calendar dates, so the send hour stays the same local hour
across DST changes, and half-hour or 45-minute offsets (India, Nepal) come out right. A send
hour that does not exist on a spring-forward day falls to the first instant after the gap.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tidings.model import Subscriber


def next_send_at(subscriber: Subscriber, after: datetime) -> datetime:
    """The first send time of the subscriber's digest strictly after `after` (aware), in UTC."""
    zone = ZoneInfo(subscriber.timezone)
    local_day = after.astimezone(zone).date()
    if subscriber.cadence == "weekly":
        local_day += timedelta(days=(subscriber.weekday - local_day.weekday()) % 7)
    step = timedelta(days=7 if subscriber.cadence == "weekly" else 1)
    while True:
        candidate = datetime.combine(local_day, time(subscriber.send_hour), tzinfo=zone)
        candidate_utc = candidate.astimezone(UTC)
        if candidate_utc > after:
            return candidate_utc
        local_day += step
