Feature: Dead letters
  A message that can never be handled, or that keeps failing, ends in a dead-letter place with
  the reason - never retried forever, never silently dropped.

  Scenario Outline: A poison message is dead-lettered at once with its reason
    Given a billing consumer with an inbox
    When the broker delivers the payload <payload> under "<topic>"
    Then the message is dead-lettered after 1 delivery with a reason containing "<reason>"
    And no invoice exists

    Examples:
      | topic           | payload                                                  | reason                                      |
      | OrderTeleported | {"event_type": "OrderTeleported", "order_id": "o-1"}     | unknown event type 'OrderTeleported'        |
      | OrderPlaced     | {"event_type": "OrderPlaced", "total": 100}              | Invalid payload for 'OrderPlaced': bad field(s) order_id |
      | OrderPlaced     | {"order_id": "o-1", "total": 100}                        | message has no 'event_type'                 |

  Scenario: A failing handler is retried, then dead-lettered
    Given a billing consumer with an inbox
    And invoicing always fails with "ledger offline"
    When the broker delivers "OrderPlaced" of order "o-1"
    Then invoicing was attempted 3 times
    And the message is dead-lettered after 3 deliveries with a reason containing "RuntimeError: ledger offline"
    And the dead letter keeps the message id and the correlation id of order "o-1"

  Scenario: A message the broker keeps refusing dies in the outbox with its error, and can be re-driven
    Given an ordering service whose outbox relays to the broker
    And the outbox gives up after 2 retries
    And the broker is down
    When the customer places order "o-1"
    Then the outbox eventually lists the "OrderPlaced" of order "o-1" as dead with an error containing "ConnectionError"
    When the broker comes back and the dead message is re-driven
    Then the broker eventually receives "OrderPlaced" of order "o-1" exactly once

  @rabbitmq
  Scenario: A message that crashes every consumer taking it is dead-lettered, not redelivered forever
    The crashed process records nothing; the next consumer sees the broker's "redelivered" flag
    and counts the lost attempt. Code: core/cqrs_ddd_core/adapters/rabbitmq/consumer.py.
    Given a consumer process on RabbitMQ that dies while handling a crashing message, allowed 3 attempts
    When the broker delivers a crashing "OrderCreated" of order "o-6"
    And a supervisor restarts the consumer each time it dies
    Then the consumer died 3 times
    And the message of order "o-6" is dead-lettered after 3 attempts with a reason containing "DeliveryLostError: attempt 3 was never settled: the consumer handling it was lost"
    And the consumer that outlived it handles order "o-7"
