Feature: A critical section holds several resources at once, without deadlocks
  CriticalSection takes its locks in one global order (sorted, each resource once), so two
  sections wanting the same resources in opposite orders queue up instead of deadlocking.
  The same session re-enters what it holds; a failure part-way lets go of what was taken.
  Code: core/cqrs_ddd_core/cqrs/concurrency.py, core/cqrs_ddd_core/adapters/memory/locking.py.

  Background:
    Given an in-memory lock strategy

  Scenario: Sections over the same accounts in opposite orders never deadlock
    When 20 sections over "Account:123, Account:456" and 20 over "Account:456, Account:123" run at once, each awaiting inside
    Then all 40 sections finished
    And no two sections were ever inside at once
    And no lock is held

  Scenario: Each resource is locked once, in sorted order
    When a section is entered over "Account:456, Account:123, Account:456"
    Then it holds exactly "Account:123, Account:456"

  Scenario: The same session re-enters a lock it holds
    Given session "user-session-abc" is inside a section over "Order:order-123"
    When session "user-session-abc" enters a section over "Order:order-123" again
    Then "Order:order-123" is held 2 times by session "user-session-abc"
    When the inner section exits
    Then "Order:order-123" is held 1 time by session "user-session-abc"
    When the outer section exits
    Then no lock is held

  Scenario: Another session times out with the resource, the timeout and the reason
    Given session "user-session-abc" is inside a section over "Order:order-123"
    When session "someone-else" tries a section over "Order:order-123" with a timeout of 0.1 seconds
    Then the section is refused for "Order:order-123" after 0.1 seconds
    And the reason names session "user-session-abc"

  Scenario: A failure part-way releases the locks already taken
    Given session "other" is inside a section over "Account:456"
    When session "someone-else" tries a section over "Account:123, Account:456" with a timeout of 0.1 seconds
    Then the section is refused for "Account:456" after 0.1 seconds
    And only "Account:456" is held

  Scenario: A lock whose holder vanished frees itself when its ttl runs out
    Given a holder took "Account:123" with a ttl of 0.2 seconds and vanished
    When session "survivor" enters a section over "Account:123" waiting up to 5 seconds
    Then "Account:123" is held 1 time by session "survivor"
    And the vanished holder can no longer release it
