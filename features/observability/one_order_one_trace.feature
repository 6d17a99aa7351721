Feature: One order is one trace
  An order placed over HTTP, paid in billing and confirmed in ordering is one trace: the HTTP
  request, every command and its nested commands, the outbox writes, the relay's publishes and
  the consumers' handling across both services and the broker share one trace id. The context
  crosses the broker as a W3C traceparent header; the outbox row keeps the context it was
  written in, so the relay - later, in another task - publishes as a child of the writing
  command, linked to the write. Each scenario runs embedded (both services in this process,
  spans kept in memory) and, tagged rabbitmq and slow, as two processes over RabbitMQ exporting
  over OTLP/HTTP to a collector the test owns.
  Code: core/cqrs_ddd_core/observability/tracing.py. Guide: docs/patterns/observability.md.

  Background:
    Given ordering and billing are running with tracing on

  Scenario: One order is one trace
    Given billing has account "alice" with "100.00"
    When customer "alice" orders 2 "book" at "20.00" over HTTP
    Then the order is eventually CONFIRMED
    And the order's trace eventually holds "command CreateOrderCommand", "command PayInvoiceCommand" and "command RecordPaymentCommand"
    And every span of the order's story has the order's trace id
    And the trace holds spans of both services
    And "process OrderCreated" is a child of "publish OrderCreated"
    And "process PaymentCaptured" is a child of "publish PaymentCaptured"
    And "command TransferFundsCommand" is a child of "command PayInvoiceCommand"
    And "publish OrderCreated" links to "outbox write OrderCreated"
    And billing's log lines of the story are JSON carrying the order's trace id

  Scenario: A redelivered duplicate is an inbox-duplicate span, not a second handling
    Given billing has account "alice" with "100.00"
    And customer "alice" ordered 2 "book" at "20.00" over HTTP and the order was confirmed
    When the broker delivers the order's OrderCreated message again
    Then the order's trace eventually holds an inbox check of OrderCreated marked duplicate
    And the order's trace holds exactly one "handle OrderCreated"
