Feature: TransferFunds holds both accounts until its transaction ends
  TransferFundsCommand names both accounts in get_critical_resources(). The LockingMiddleware
  runs it inside a CriticalSection keyed by the root command, and releases the locks only once
  the unit of work has committed or rolled back - so no other transfer reads a balance this one
  is about to change.
  Code: core/cqrs_ddd_core/middleware/locking.py, tests/locking/bank.py.

  Background:
    Given a bank whose mediator locks critical resources
    And account "alice" with 1000
    And account "bob" with 1000

  Scenario: Opposite transfers never deadlock
    When 30 transfers of 1 from "alice" to "bob" and 20 from "bob" to "alice" run at once
    Then every transfer completed
    And "alice" has 990
    And "bob" has 1010
    And no lock is held

  Scenario: A nested command re-enters its parent's lock
    When "alice" pays an invoice of 40 to "bob" through a nested transfer
    Then the nested transfer found "Account:alice" held 2 times
    And "alice" has 960
    And "bob" has 1040
    And no lock is held

  Scenario: Unrelated commands wait for each other's locks
    When "alice" transfers 10 to "bob" while "bob" transfers 20 to "alice"
    Then the second transfer started only after the first had committed
    And "alice" has 1010
    And "bob" has 990

  Scenario: The locks are held until the transfer has committed
    When "alice" transfers 10 to "bob"
    Then both accounts were locked while the transfer committed
    And no lock is held

  Scenario: A transfer that cannot get its lock never runs
    Given "Account:bob" is locked by another command
    When "alice" transfers 10 to "bob" waiting up to 0.1 seconds
    Then the transfer is refused for "Account:bob"
    And the transfer handler never ran
    And "alice" has 1000
    And only "Account:bob" is held
