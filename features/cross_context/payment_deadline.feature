Feature: An order that billing never answers times out, and a late payment is given back
  Ordering runs each order's payment as a process manager (OrderPaymentProcess). Placing an
  order starts a durable payment deadline (PAYMENT_TIMEOUT_SECONDS, 30 here): a row written in
  the order's transaction, fired by a scheduler that claims due rows with a lease. If billing
  has not answered by then, the order is cancelled and OrderCancelled tells billing not to
  charge it; a payment that still reaches the cancelled order is refunded, once.
  Every scenario runs in both modes. Embedded: ordering on a SQLite file (so it can restart
  and run twice), its clock moved by the scenario - 30 s pass in a call, never a sleep - and
  billing "down" while its consumers are stopped. Tagged rabbitmq and slow: each service its
  own OS process over the real RabbitMQ, PAYMENT_TIMEOUT_SECONDS=4, billing down while its
  process is stopped; the race is decided by holding one message back, as a slow network would.
  Code: ordering_service/application/payment_process.py, core/cqrs_ddd_core/deadlines/,
  billing_service/application/command_handlers.py (refund, cancellation);
  steps: tests/bdd/cross_context/test_payment_deadline.py.

  Background:
    Given ordering and billing are running, with a payment deadline

  Scenario: Billing is down longer than the deadline, and the customer is never charged
    Given billing has account "alice" with "100.00"
    And billing is down
    When customer "alice" orders 2 "book" at "20.00"
    And the payment deadline passes
    Then the order is eventually CANCELLED because "Payment timed out"
    When billing comes back and hears of the cancellation before the order
    Then billing has recorded the cancellation and has no invoice for the order
    And "alice" has "100.00" and the merchant has received "0.00"
    And every message of the story carries the order's correlation id and a causation id

  Scenario: Billing charges just before the cancellation reaches it, and refunds once
    Given billing has account "alice" with "100.00"
    And billing is down
    When customer "alice" orders 2 "book" at "20.00"
    And the payment deadline passes
    Then the order is eventually CANCELLED because "Payment timed out"
    When billing comes back and takes the order before it hears of the cancellation
    Then billing has eventually invoiced the order as REFUNDED
    And "alice" has "100.00" and the merchant has received "0.00"
    And the customer was refunded exactly once
    And the order is still CANCELLED
    And every message of the story carries the order's correlation id and a causation id

  Scenario: A deadline that falls due while ordering is stopped fires after the restart
    Given billing has account "alice" with "100.00"
    And billing is down
    When customer "alice" orders 2 "book" at "20.00"
    And ordering stops
    And the payment deadline passes
    And ordering starts again
    Then the order is eventually CANCELLED because "Payment timed out"
    And the order's deadline fired exactly once

  Scenario: With two ordering replicas, each deadline fires exactly once
    Given a second ordering replica is running
    And billing is down
    When customers place 8 orders
    And the payment deadline passes
    Then every order is eventually CANCELLED because "Payment timed out"
    And each order's deadline fired exactly once, and one OrderCancelled left per order

  Scenario: A payment in time confirms the order, and the deadline later changes nothing
    Given billing has account "alice" with "100.00"
    When customer "alice" orders 2 "book" at "20.00"
    Then the order is eventually CONFIRMED
    When the payment deadline passes
    Then the order's deadline was cancelled and never fired
    And the order is still CONFIRMED
    And "alice" has "60.00" and the merchant has received "40.00"
