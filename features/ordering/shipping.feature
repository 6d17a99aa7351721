Feature: Shipping with a nested command
  ShipOrderCommand sends CreateShipmentCommand, ordering's own nested command. The nested
  command joins the root's unit of work inside a savepoint, and only the root commits: the
  shipment and the shipped order are written together, or not at all.
  Code: ordering_service/application/command_handlers.py (ShipOrderHandler).

  Scenario: Shipping a paid order commits the shipment and the order once
    Given a confirmed order of customer "alice"
    When the order is shipped
    Then the order is SHIPPED with its shipment
    And the shipment and the shipped order were committed in one transaction

  Scenario: An unpaid order cannot ship and leaves no shipment behind
    Given customer "alice" placed an order of 1 "book" at "10.00"
    When the order is shipped
    Then shipping is refused because the order "is PENDING"
    And no shipment exists
    And the order is PENDING with a total of "10.00"
