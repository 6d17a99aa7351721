Feature: Routing
  An event class names its audience with @route_to: "integration" events go to the broker
  through the outbox, "notifications" to the notifications outbox, and events with no route
  stay in-process (they update the read model). Nothing leaves before the command commits.

  Background:
    Given an ordering service that routes its events

  Scenario: Each event goes where its class is routed
    When the customer places order "o-1"
    Then the broker eventually receives "OrderPlaced" of order "o-1" exactly once
    And the notifications publisher eventually receives "CustomerNotified" of order "o-1"
    And the read model noted order "o-1" in-process
    And no "OrderNoted" left the process

  Scenario: The routed events of a rolled-back command never leave
    When placing order "o-2" fails after its handler wrote the order
    Then the broker receives nothing
    And the notifications publisher receives nothing
    And the read model did not note order "o-2"

  Scenario: A message that no route matches is refused, not dropped
    Given a router with a route only for "OrderPlaced"
    When "PaymentRefunded" is published through the router
    Then publishing fails with "No publisher for 'PaymentRefunded'"
