"""Consumers: the receiving end of integration events.

`base.BaseEventConsumer` subscribes to a broker, hydrates each message into this service's own
event classes and dispatches it - with an inbox, exactly once in effect.
Scenarios: features/core/consumers.feature, features/core/inbox.feature.
Guide: docs/components/consumers.md.
"""
