"""`topic_matches`: the AMQP topic-exchange binding rule, for every broker of ours.

A topic is words joined by ``.`` (``orders.created``); in a binding pattern ``*`` stands for
exactly one word and ``#`` for zero or more. The in-process broker routes with it and the
RabbitMQ consumer dispatches wildcard subscriptions with it, so both agree with RabbitMQ.
"""

from __future__ import annotations


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether a message published under ``topic`` reaches a queue bound with ``pattern``."""
    return _match(pattern.split("."), topic.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return head in ("*", words[0]) and _match(rest, words[1:])
