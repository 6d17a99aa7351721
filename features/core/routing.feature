Feature: Routing
  Every event has an audience: "integration" events go to the broker through the outbox,
  "notifications" to the notifications outbox, and events with no route stay in-process (they
  update the read model). Nothing leaves before the command commits. There are three ways to
  say who hears what: a route table in the composition root (what the services use), a
  route_to mark on the event class, and a publishing event handler.

  Background:
    Given a warehouse that routes its events

  Scenario: A route table decides alone where each event goes
    Given a warehouse whose route table sends "ShipmentAnnounced" to the broker and to the notifications
    When the warehouse registers shipment "s-7"
    Then the broker eventually receives "ShipmentAnnounced" of shipment "s-7" exactly once
    And the notifications publisher eventually receives "ShipmentAnnounced" of shipment "s-7"
    And the read model noted shipment "s-7" in-process
    And no "SupplierThanked" left the process

  Scenario: A publishing event handler sends the events it handles through the outbox
    Given a warehouse whose "SupplierThanked" events are handled by a publishing event handler
    When the warehouse registers shipment "s-8"
    Then the notifications publisher eventually receives "SupplierThanked" of shipment "s-8"
    And no "ShipmentAnnounced" left the process

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
