Feature: Routing
  An event class names its audience with @route_to: "integration" events go to the broker
  through the outbox, "notifications" to the notifications outbox, and events with no route
  stay in-process (they update the read model). Nothing leaves before the command commits.

  Background:
    Given a warehouse that routes its events

  Scenario: Each event goes where its class is routed
    When the warehouse registers shipment "s-1"
    Then the broker eventually receives "ShipmentAnnounced" of shipment "s-1" exactly once
    And the notifications publisher eventually receives "SupplierThanked" of shipment "s-1"
    And the read model noted shipment "s-1" in-process
    And no "ShipmentNoted" left the process

  Scenario: The routed events of a rolled-back command never leave
    When registering shipment "s-2" fails after its handler wrote the shipment
    Then the broker receives nothing
    And the notifications publisher receives nothing
    And the read model did not note shipment "s-2"

  Scenario: A message that no route matches is refused, not dropped
    Given a router with a route only for "ShipmentAnnounced"
    When "StockCounted" is published through the router
    Then publishing fails with "No publisher for 'StockCounted'"
