Feature: Orders
  An order is placed PENDING, then confirmed when billing captures its payment or cancelled
  when the payment fails. Every change also reaches the order summaries, the read model that
  ListOrdersQuery answers from.
  Code: ordering_service/domain/order.py, ordering_service/application/.

  Scenario: An order is placed
    When customer "alice" orders 3 "book" at "19.99"
    Then the order is PENDING with a total of "59.97"
    And the order is listed for customer "alice" as PENDING
    And the order was announced to billing as "OrderCreated" with a total of "59.97"

  Scenario: An order is confirmed when its payment is captured
    Given customer "alice" placed an order of 1 "book" at "10.00"
    When billing reports the payment of the order captured
    Then the order is CONFIRMED
    And the order is listed for customer "alice" as CONFIRMED

  Scenario: A payment reported twice confirms the order once
    Given customer "alice" placed an order of 1 "book" at "10.00"
    When billing reports the payment of the order captured
    And billing reports the payment of the order captured
    Then the order is CONFIRMED
    And the order was confirmed once

  Scenario: An order is cancelled for insufficient funds
    Given customer "alice" placed an order of 1 "book" at "10.00"
    When billing reports the payment of the order failed because "Insufficient funds in account 'alice'"
    Then the order is CANCELLED because "Insufficient funds in account 'alice'"
    And the order is listed for customer "alice" as CANCELLED
