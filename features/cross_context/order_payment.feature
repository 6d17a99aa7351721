Feature: An order is paid across two services
  Ordering and billing share no code and no database. An order leaves ordering as OrderCreated
  through its outbox and the broker; billing's consumer pays the invoice with a nested transfer
  and answers PaymentCaptured or PaymentFailed through its own outbox; ordering's consumer
  confirms or cancels the order. Customers hear about it through the notifications destination.
  Every scenario runs in both modes: on the embedded default (both services in one process,
  in-memory storage, one in-process broker) and, tagged rabbitmq and slow, as separate
  processes over the real RabbitMQ, driven over HTTP. Each scenario's customers are its own.
  Code: ordering_service/bootstrap.py, billing_service/bootstrap.py, */consumers.py;
  the two modes: tests/bdd/cross_context/ (embedded.py, processes.py).

  Background:
    Given ordering and billing are running

  Scenario: An order is paid and confirmed
    Given billing has account "alice" with "100.00"
    When customer "alice" orders 2 "book" at "20.00"
    Then the order is eventually CONFIRMED
    And billing has invoiced the order as PAID
    And "alice" has "60.00" and the merchant has received "40.00"
    And the notifications eventually include "OrderConfirmed" and "PaymentCaptured" for the order
    And every message of the story carries the order's correlation id

  Scenario: An order is cancelled for insufficient funds
    Given billing has account "alice" with "10.00"
    When customer "alice" orders 2 "book" at "20.00"
    Then the order is eventually CANCELLED because "Insufficient funds in account 'alice'"
    And billing has invoiced the order as FAILED
    And "alice" has "10.00" and the merchant has received "0.00"
    And the notifications eventually include "OrderCancelled" and "PaymentFailed" for the order

  Scenario: A duplicate delivery of the order has its effect once
    Given billing has account "alice" with "100.00"
    And customer "alice" ordered 2 "book" at "20.00" and the order was confirmed
    When the broker delivers the order's OrderCreated message again
    Then billing recognises the duplicate and acknowledges it without effect
    And "alice" has "60.00" and the merchant has received "40.00"
    And billing has exactly one invoice for the order
