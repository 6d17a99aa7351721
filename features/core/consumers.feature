Feature: Consumers
  A consumer subscribes to topics, takes event_type from each payload, hydrates the event into
  its own context's class and dispatches it to its handlers. Consumers sharing a queue compete
  for messages; every queue gets its own copy. Here the storefront lists the stock of each
  shipment the warehouse announces.

  Scenario: An event crosses from one context to the other
    Given a warehouse whose outbox relays to the broker
    And a storefront consumer with an inbox
    When the warehouse registers shipment "s-1"
    Then the storefront eventually lists shipment "s-1" with 100 units
    And the storefront read the event into its own model of a shipment
    And the listing carries the correlation id of the command that registered shipment "s-1"

  Scenario: Replicas of one consumer compete, another queue gets its own copy
    Given a warehouse whose outbox relays to the broker
    And 2 storefront replicas consuming one queue
    And an audit consumer on a queue of its own
    When the warehouse registers 20 shipments
    Then each of the 20 shipments is eventually listed exactly once
    And both storefront replicas handled some of them
    And the audit consumer eventually saw all 20 shipments
