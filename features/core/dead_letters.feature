Feature: Dead letters
  A message that can never be handled, or that keeps failing, ends in a dead-letter place with
  the reason - never retried forever, never silently dropped.

  Scenario Outline: A poison message is dead-lettered at once with its reason
    Given a storefront consumer with an inbox
    When the broker delivers a poison message: <message>
    Then the message is dead-lettered after 1 delivery with a reason containing "<reason>"
    And nothing is listed

    Examples:
      | message                                          | reason                                                            |
      | an event of a type the storefront never heard of | unknown event type 'ShipmentTeleported'                           |
      | an announced shipment without its shipment id    | Invalid payload for 'ShipmentAnnounced': bad field(s) shipment_id |
      | a message that does not say which event it is    | message has no 'event_type'                                       |

  Scenario: A failing handler is retried, then dead-lettered
    Given a storefront consumer with an inbox
    And listing always fails with "catalogue offline"
    When the broker delivers "ShipmentAnnounced" of shipment "s-1"
    Then listing was attempted 3 times
    And the message is dead-lettered after 3 deliveries with a reason containing "RuntimeError: catalogue offline"
    And the dead letter keeps the message id and the correlation id of shipment "s-1"

  Scenario: A message the broker keeps refusing dies in the outbox with its error, and can be re-driven
    Given a warehouse whose outbox relays to the broker
    And the outbox gives up after 2 retries
    And the broker is down
    When the warehouse registers shipment "s-1"
    Then the outbox eventually lists the "ShipmentAnnounced" of shipment "s-1" as dead with an error containing "ConnectionError"
    When the broker comes back and the dead message is re-driven
    Then the broker eventually receives "ShipmentAnnounced" of shipment "s-1" exactly once

  @rabbitmq
  Scenario: A message that crashes every consumer taking it is dead-lettered, not redelivered forever
    The crashed process records nothing; the next consumer sees the broker's "redelivered" flag
    and counts the lost attempt. Code: core/cqrs_ddd_core/adapters/rabbitmq/consumer.py.
    Given a consumer process on RabbitMQ that dies while handling a crashing message, allowed 3 attempts
    When the broker delivers a crashing message "m-6"
    And a supervisor restarts the consumer each time it dies
    Then the consumer died 3 times
    And message "m-6" is dead-lettered after 3 attempts with a reason containing "DeliveryLostError: attempt 3 was never settled: the consumer handling it was lost"
    And the consumer that outlived it handles message "m-7"
