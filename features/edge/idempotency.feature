Feature: A retried POST has its effect once
  A client that timed out cannot tell whether its POST took effect, so it sends it again with
  the same Idempotency-Key. The first response was stored in the same transaction as the
  command's effects; the retry gets that response again, marked "Idempotent-Replayed: true",
  and nothing happens twice. A key belongs to one request: sent with another body, it is refused.
  Code: cqrs_ddd_core/adapters/litestar/idempotency.py. Guide: docs/patterns/idempotency.md.

  Scenario: A retried order is placed once
    Given ordering is running
    When a client places an order for "alice" with the idempotency key "order-7"
    And the client sends the same order again with the idempotency key "order-7"
    Then both answers are 201 with the same order
    And the second answer is marked "Idempotent-Replayed: true"
    And ordering has 1 order

  Scenario: A retried transfer with another body is refused
    Given billing is running with "alice" holding "100.00" and "bob" holding "0.00"
    When a client transfers "30.00" from "alice" to "bob" with the idempotency key "transfer-7"
    And the client transfers "40.00" from "alice" to "bob" with the idempotency key "transfer-7"
    Then the second answer is 422 and names the Idempotency-Key
    And "alice" has "70.00" and "bob" has "30.00"
    And the first transfer can be read back by its id

  Scenario: Twenty copies of a transfer sent at once move the money once
    Given billing is running with "alice" holding "50.00" and "bob" holding "0.00"
    When 20 copies of a transfer of "30.00" from "alice" to "bob" are sent at once with the idempotency key "transfer-8"
    Then every answer is 201 with the same transfer
    And "alice" has "20.00" and "bob" has "30.00"
