Feature: A lock that expires under a paused holder cannot corrupt the stock count
  A lock with a ttl frees itself when its holder vanishes - and just the same when its holder
  only paused past the ttl (a long garbage collection, a stalled event loop). The paused holder
  wakes up believing it still holds the lock while the next holder is already done. No lock
  service can prevent that; the database write can: the shelf's optimistic version makes the
  stale holder's write fail instead of overwriting the newer one.
  Code: core/cqrs_ddd_core/adapters/redis/locking.py, core/cqrs_ddd_core/adapters/sqlalchemy/repository.py.

  Background:
    Given shelf "S-1" holds 100 units in the database
    And two holders with locks in the same Redis

  Scenario: A holder paused past its ttl cannot overwrite the newer holder's write
    Given holder "A" locked "Shelf:S-1" with a ttl of 0.3 seconds and read its count
    When holder "A"'s event loop stalls
    And holder "B" locks "Shelf:S-1", takes 30 and commits
    And holder "A" wakes up, takes 50 and writes with the version it read
    Then holder "A"'s write is refused because the shelf changed since it read it
    And holder "A"'s release fails because its ttl expired
    And shelf "S-1" holds 70 units at version 2

  Scenario: Without the version check the paused holder's write loses the newer one
    Given holder "A" locked "Shelf:S-1" with a ttl of 0.3 seconds and read its count
    When holder "A"'s event loop stalls
    And holder "B" locks "Shelf:S-1", takes 30 and commits
    And holder "A" wakes up, takes 50 and writes without checking the version
    Then shelf "S-1" holds 50 units, and holder "B"'s taking of 30 is lost
