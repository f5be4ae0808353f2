"""Rendering digests: email (HTML + text, Jinja) and Slack (Block Kit, slack-sdk models)."""
