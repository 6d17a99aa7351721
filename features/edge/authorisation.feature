Feature: A customer cannot spend another's money
  Every request carries a bearer token naming its caller. The HTTP edge only proves who calls;
  what that caller may do is decided by the application, in the handler of the command or query
  the request becomes: a customer acts only for itself, an operator for anyone. A customer
  asking to act for another is refused (403); another's order reads as one that does not
  exist (404), so a customer cannot even learn that it is there.
  Code: billing_service/application/command_handlers.py,
  ordering_service/application/command_handlers.py, ordering_service/application/query_handlers.py.
  Guide: docs/security.md.

  Background:
    Given the back office opened account "alice" with "100.00" and account "mallory" with "0.00"

  Scenario: A customer cannot transfer out of another's account
    When "mallory" transfers "50.00" from "alice" to "mallory"
    Then the answer is 403
    And "alice" has "100.00" and "mallory" has "0.00"

  Scenario: A customer cannot place an order for another
    When "mallory" places an order for "alice"
    Then the answer is 403
    And "alice" has no orders

  Scenario: Another customer's order is answered as if it did not exist
    Given "alice" placed an order
    When "mallory" reads that order
    Then the answer is 404, word for word the answer for an order that does not exist
    And "mallory" lists no orders while "alice" lists hers

  Scenario: A customer moves its own money, and orders for itself without naming itself
    When "alice" transfers "30.00" from "alice" to "mallory"
    Then the answer is 201
    And "alice" has "70.00" and "mallory" has "30.00"
    When "alice" places an order without naming a customer
    Then the answer is 201
    And the order is "alice"'s
