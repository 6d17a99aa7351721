Feature: Consumers
  A consumer subscribes to topics, takes event_type from each payload, hydrates the event into
  its own service's class and dispatches it to its handlers. Consumers sharing a queue compete
  for messages; every queue gets its own copy.

  Scenario: An event crosses from one service to the other
    Given an ordering service whose outbox relays to the broker
    And a billing consumer with an inbox
    When the customer places order "o-1"
    Then order "o-1" is eventually invoiced for 100
    And billing received the event as its own class "BillingOrderPlaced"
    And the invoice carries the correlation id of the command that placed order "o-1"

  Scenario: Replicas of one consumer compete, another queue gets its own copy
    Given an ordering service whose outbox relays to the broker
    And 2 billing replicas consuming one queue
    And an audit consumer on a queue of its own
    When the customer places 20 orders
    Then each of the 20 orders is eventually invoiced exactly once
    And both billing replicas handled some of them
    And the audit consumer eventually saw all 20 orders
