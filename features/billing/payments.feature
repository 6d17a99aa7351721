Feature: Paying an order's invoice
  When ordering announces an order, billing issues its invoice and pays it: PayInvoiceCommand
  sends TransferFundsCommand nested (customer -> merchant), so the invoice and both balances
  commit together. A refused transfer is undone by its savepoint, and the failed invoice with
  PaymentFailed commits instead.
  Code: billing_service/application/command_handlers.py (PayInvoiceHandler).

  Background:
    Given account "merchant" with "0.00"

  Scenario: An order's payment is captured
    Given account "alice" with "100.00"
    When ordering announces order "order-1" of customer "alice" for "59.97"
    Then the invoice of "order-1" is PAID
    And "PaymentCaptured" was emitted for "order-1"
    And "alice" has "40.03"
    And "merchant" has "59.97"

  Scenario: Insufficient funds fail the invoice and leave the balances untouched
    Given account "alice" with "10.00"
    When ordering announces order "order-1" of customer "alice" for "59.97"
    Then the invoice of "order-1" is FAILED because "Insufficient funds in account 'alice'"
    And "PaymentFailed" was emitted for "order-1"
    And "alice" has "10.00"
    And "merchant" has "0.00"

  Scenario: A customer without an account gets a failed payment saying so
    When ordering announces order "order-1" of customer "nobody" for "5.00"
    Then the invoice of "order-1" is FAILED because "Customer account 'nobody' does not exist"
    And "PaymentFailed" was emitted for "order-1"

  Scenario: The nested payment is atomic
    Given account "alice" with "100.00"
    And the payment will crash after its transfer, before the commit
    When ordering announces order "order-1" of customer "alice" for "59.97"
    Then the payment crashed
    And no invoice exists for "order-1"
    And "alice" has "100.00"
    And "merchant" has "0.00"

  Scenario: An order announced twice is paid once
    Given account "alice" with "100.00"
    When ordering announces order "order-1" of customer "alice" for "30.00"
    And ordering announces order "order-1" of customer "alice" for "30.00"
    Then the invoice of "order-1" is PAID
    And "alice" has "70.00"
