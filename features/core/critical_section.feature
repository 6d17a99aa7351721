Feature: A clerk can lock several shelves at once, and two clerks never wait on each other forever
  Before working on shelves a clerk locks them all (a critical section), always sorted the
  same way and each once, so two clerks who want the same shelves the other way round queue
  up instead of each holding one and waiting forever for the other's (a deadlock). A clerk may
  lock again what they already hold; one who cannot lock everything lets go of what they took.

  Background:
    Given locks kept in memory

  Scenario: Clerks wanting the same shelves the other way round never wait on each other forever
    When 20 clerks lock shelves "A1, B2" and 20 lock shelves "B2, A1", all at once, each working a moment inside
    Then all 40 clerks finished
    And no two clerks were ever working on the shelves at the same time
    And nothing is locked

  Scenario: Each shelf is locked once, always in the same sequence
    When a clerk locks shelves "B2, A1, B2"
    Then the clerk holds exactly the locks of shelves "A1, B2", in that sequence

  Scenario: A clerk can lock again what they already hold
    Given clerk "ann" has locked shipment "s-123"
    When clerk "ann" locks shipment "s-123" again
    Then clerk "ann" must unlock shipment "s-123" twice before it is free
    When clerk "ann" unlocks it once
    Then clerk "ann" must unlock shipment "s-123" once before it is free
    When clerk "ann" unlocks it again
    Then nothing is locked

  Scenario: Another clerk gives up after the wait they allowed, told what and who is in the way
    Given clerk "ann" has locked shipment "s-123"
    When clerk "bob" tries to lock shipment "s-123", waiting at most 0.1 seconds
    Then clerk "bob" is refused shipment "s-123" after 0.1 seconds
    And the refusal names clerk "ann"

  Scenario: A clerk who cannot lock everything lets go of what they already locked
    Given clerk "cleo" has locked shelf "B2"
    When clerk "bob" tries to lock shelves "A1, B2", waiting at most 0.1 seconds
    Then clerk "bob" is refused shelf "B2" after 0.1 seconds
    And only shelf "B2" is locked

  Scenario: A lock whose holder vanished frees itself when its time runs out
    Given a clerk locked shelf "A1" for at most 0.2 seconds and vanished
    When clerk "dan" locks shelf "A1", waiting up to 5 seconds
    Then clerk "dan" must unlock shelf "A1" once before it is free
    And the vanished clerk can no longer unlock it
