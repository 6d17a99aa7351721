Feature: Transfers between accounts
  TransferFundsCommand names the account money leaves in get_critical_resources(): the locking
  middleware holds it until the transaction ends. The credited account is row-locked inside the
  transaction; the handler takes both rows in id order, so opposite transfers never deadlock.
  Code: billing_service/application/commands.py, cqrs_ddd_core/cqrs/concurrency.py.

  Scenario: A transfer moves money between two accounts
    Given account "alice" with "100.00"
    And account "bob" with "0.00"
    When "alice" transfers "40.00" to "bob"
    Then "alice" has "60.00"
    And "bob" has "40.00"

  Scenario: A transfer beyond the balance is refused and changes nothing
    Given account "alice" with "10.00"
    And account "bob" with "0.00"
    When "alice" transfers "10.01" to "bob"
    Then the transfer is refused with "Insufficient funds in account 'alice'"
    And "alice" has "10.00"
    And "bob" has "0.00"

  Scenario: Opposite transfers never deadlock
    Given account "alice" with "1000.00"
    And account "bob" with "1000.00"
    When 30 transfers of "1.00" from "alice" to "bob" and 20 from "bob" to "alice" run at once, each awaiting while it holds its locks
    Then every transfer completed
    And "alice" has "990.00"
    And "bob" has "1010.00"
