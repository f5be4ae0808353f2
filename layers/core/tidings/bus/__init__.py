"""The items bus: SNS publishing and SQS event parsing."""
