Feature: A stock transfer holds both shelves until its transaction ends
  Moving stock names both shelves as its critical resources (get_critical_resources()). The
  LockingMiddleware runs it inside a CriticalSection keyed by the root command, and releases
  the locks only once the unit of work has committed or rolled back - so no other transfer
  reads a quantity this one is about to change.
  Code: core/cqrs_ddd_core/middleware/locking.py, tests/warehouse/stock_moves.py.

  Background:
    Given a stock room whose mediator locks critical resources
    And shelf "A" holding 1000 units
    And shelf "B" holding 1000 units

  Scenario: Opposite transfers never deadlock
    When 30 transfers of 1 unit from "A" to "B" and 20 from "B" to "A" run at once
    Then every transfer completed
    And shelf "A" holds 990 units
    And shelf "B" holds 1010 units
    And no lock is held

  Scenario: A nested command re-enters its parent's lock
    When shelf "B" is replenished with 40 units from reserve shelf "A" through a nested transfer
    Then the nested transfer found shelf "A" locked 2 times
    And shelf "A" holds 960 units
    And shelf "B" holds 1040 units
    And no lock is held

  Scenario: Unrelated commands wait for each other's locks
    When 10 units move from "A" to "B" while 20 units move from "B" to "A"
    Then the second transfer started only after the first had committed
    And shelf "A" holds 1010 units
    And shelf "B" holds 990 units

  Scenario: The locks are held until the transfer has committed
    When 10 units move from "A" to "B"
    Then both shelves were locked while the transfer committed
    And no lock is held

  Scenario: A transfer that cannot get its lock never runs
    Given shelf "B" is locked by another command
    When 10 units move from "A" to "B", waiting up to 0.1 seconds for the locks
    Then the transfer is refused for shelf "B"
    And the transfer's handler never ran
    And shelf "A" holds 1000 units
    And only shelf "B" is locked
