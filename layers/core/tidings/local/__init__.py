"""The local, in-process stack: emulated AWS (moto), a feed server, a Slack sink, the outbox.

Used by `tidings demo` and the tests; never imported by the Lambda handlers.
"""
