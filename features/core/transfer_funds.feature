Feature: Moving stock keeps both shelves locked until the move is in the books
  A move of stock names the two shelves it touches. The front desk locks both before the move
  starts (the locking middleware) and unlocks them only once the move is written to the books
  or undone - so no other move reads a count this one is about to change.

  Background:
    Given a stock room whose front desk locks the shelves a move touches
    And shelf "A" holding 1000 units
    And shelf "B" holding 1000 units

  Scenario: Moves in opposite directions never wait on each other forever
    When 30 moves of 1 unit from "A" to "B" and 20 from "B" to "A" run at once
    Then every move was done
    And shelf "A" holds 990 units
    And shelf "B" holds 1010 units
    And nothing is locked

  Scenario: Replenishing from the reserve moves stock under the lock it already holds
    When shelf "B" is replenished with 40 units from reserve shelf "A", the replenishment asking for the move
    Then during the move, shelf "A" was locked twice: by the replenishment and by the move
    And shelf "A" holds 960 units
    And shelf "B" holds 1040 units
    And nothing is locked

  Scenario: Two moves over the same shelves take turns
    When 10 units move from "A" to "B" while 20 units move from "B" to "A"
    Then the second move started only after the first was in the books
    And shelf "A" holds 1010 units
    And shelf "B" holds 990 units

  Scenario: The shelves stay locked until the move is in the books
    When 10 units move from "A" to "B"
    Then both shelves were locked while the move was written to the books
    And nothing is locked

  Scenario: A move that cannot lock its shelves never starts
    Given shelf "B" is locked by another clerk
    When 10 units move from "A" to "B", waiting up to 0.1 seconds for the locks
    Then the move is refused because the other clerk has locked shelf "B"
    And the move was never started
    And shelf "A" holds 1000 units
    And only shelf "B" is locked
