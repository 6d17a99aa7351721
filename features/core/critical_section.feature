Feature: A critical section holds several resources at once, without deadlocks
  CriticalSection takes its locks in one global order (sorted, each resource once), so two
  sections wanting the same resources in opposite orders queue up instead of deadlocking.
  The same session re-enters what it holds; a failure part-way lets go of what was taken.
  Code: core/cqrs_ddd_core/cqrs/concurrency.py, core/cqrs_ddd_core/adapters/memory/locking.py.

  Background:
    Given an in-memory lock strategy

  Scenario: Sections over the same shelves in opposite orders never deadlock
    When 20 sections over "Shelf:A1, Shelf:B2" and 20 over "Shelf:B2, Shelf:A1" run at once, each awaiting inside
    Then all 40 sections finished
    And no two sections were ever inside at once
    And no lock is held

  Scenario: Each resource is locked once, in sorted order
    When a section is entered over "Shelf:B2, Shelf:A1, Shelf:B2"
    Then it holds exactly "Shelf:A1, Shelf:B2"

  Scenario: The same session re-enters a lock it holds
    Given session "user-session-abc" is inside a section over "Shipment:s-123"
    When session "user-session-abc" enters a section over "Shipment:s-123" again
    Then "Shipment:s-123" is held 2 times by session "user-session-abc"
    When the inner section exits
    Then "Shipment:s-123" is held 1 time by session "user-session-abc"
    When the outer section exits
    Then no lock is held

  Scenario: Another session times out with the resource, the timeout and the reason
    Given session "user-session-abc" is inside a section over "Shipment:s-123"
    When session "someone-else" tries a section over "Shipment:s-123" with a timeout of 0.1 seconds
    Then the section is refused for "Shipment:s-123" after 0.1 seconds
    And the reason names session "user-session-abc"

  Scenario: A failure part-way releases the locks already taken
    Given session "other" is inside a section over "Shelf:B2"
    When session "someone-else" tries a section over "Shelf:A1, Shelf:B2" with a timeout of 0.1 seconds
    Then the section is refused for "Shelf:B2" after 0.1 seconds
    And only "Shelf:B2" is held

  Scenario: A lock whose holder vanished frees itself when its ttl runs out
    Given a holder took "Shelf:A1" with a ttl of 0.2 seconds and vanished
    When session "survivor" enters a section over "Shelf:A1" waiting up to 5 seconds
    Then "Shelf:A1" is held 1 time by session "survivor"
    And the vanished holder can no longer release it
