Feature: An announcement that can never be handled is set aside with the reason
  An announcement the storefront can never handle, or one whose handling keeps failing, ends
  up among the dead letters with the reason why - never tried again forever, never silently
  lost.

  Scenario Outline: A poison message is dead-lettered at once with its reason
    Given a storefront that lists each announced shipment for sale, keeping an inbox
    When the broker delivers a poison message: <message>
    Then the message is dead-lettered after 1 delivery, because <reason>
    And nothing is listed

    Examples:
      | message                                     | reason                                    |
      | news that a shipment was teleported         | the storefront knows no news of that kind |
      | an announcement without its shipment number | the shipment number is missing            |
      | a message that does not say what news it is | the message does not say what news it is  |

  Scenario: A listing that keeps failing is tried again, then dead-lettered
    Given a storefront that lists each announced shipment for sale, keeping an inbox
    And listing always fails with "catalogue offline"
    When the broker delivers the announcement of shipment "s-1"
    Then listing was attempted 3 times
    And the message is dead-lettered after 3 deliveries, because listing failed with "catalogue offline"
    And the dead letter keeps the announcement whole, with its own number and the tracking number of shipment "s-1"

  Scenario: An announcement the broker keeps refusing dies in the outbox with its error, and can be sent again
    Given a warehouse whose outbox relays to the broker
    And the outbox gives up after 2 retries
    And the broker is down
    When the warehouse registers shipment "s-1"
    Then the outbox eventually lists the announcement of shipment "s-1" as dead after 3 tries, because the broker could not be reached
    When the broker comes back and the dead announcement is sent again
    Then the broker eventually receives the announcement of shipment "s-1" exactly once

  @rabbitmq
  Scenario: An announcement that crashes every worker taking it is dead-lettered, not delivered again forever
    A worker that crashes notes nothing; the next one sees the broker's "delivered before" mark
    and counts the attempt that was lost.
    Given a storefront worker on RabbitMQ, a program of its own that dies while handling a crashing announcement, allowed 3 attempts
    When the broker delivers a crashing announcement of shipment "s-6"
    And a supervisor restarts the worker each time it dies
    Then the worker died 3 times
    And the announcement of shipment "s-6" is dead-lettered after 3 attempts, because the last one was lost with the worker handling it
    And the worker that outlived it handles the announcement of shipment "s-7"
