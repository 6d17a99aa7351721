Feature: A lock that runs out under a frozen clerk cannot spoil the shelf's count
  A lock with a time limit frees itself when its holder vanishes - and just the same when its
  holder only froze past the limit (a long pause of its computer). The frozen clerk wakes up
  believing it still holds the lock while the next clerk is already done. No lock can prevent
  that; the shelf's record can: it carries a version number, and a write based on an old
  version is refused instead of overwriting the newer count.

  Background:
    Given shelf "S-1" holds 100 units in the database
    And two clerks, each on a computer of its own, sharing locks kept in Redis

  Scenario: A clerk frozen past its lock's time limit cannot overwrite the newer count
    Given clerk "A" locked shelf "S-1" for at most 0.3 seconds and read its count
    When clerk "A" freezes
    And clerk "B" locks shelf "S-1", takes 30 and writes it to the books
    And clerk "A" wakes up, takes 50 and writes with the version it read
    Then clerk "A"'s write is refused because the shelf changed since it read it
    And clerk "A" cannot unlock the shelf because its time limit ran out
    And shelf "S-1" holds 70 units at version 2

  Scenario: Without the version check the frozen clerk's write wipes out the newer one
    Given clerk "A" locked shelf "S-1" for at most 0.3 seconds and read its count
    When clerk "A" freezes
    And clerk "B" locks shelf "S-1", takes 30 and writes it to the books
    And clerk "A" wakes up, takes 50 and writes without checking the version
    Then shelf "S-1" holds 50 units, and clerk "B"'s taking of 30 is lost
