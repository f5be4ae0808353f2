"""tidings: serverless feed notifier (RSS/Atom in, topic-filtered email and Slack out)."""

__version__ = "0.1.0"
USER_AGENT = f"tidings/{__version__} (+https://github.com/tidings/tidings; feed notifier)"
