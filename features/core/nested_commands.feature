Feature: Putting the goods away is part of receiving them
  Receiving a shipment notes it down, then asks for its goods to be put away - a nested
  command, sent by the receiving clerk while still at work. Putting away joins the same piece
  of work (inside a savepoint), so the shipment and its putaway are written to the books
  together - once - or not at all.

  Background:
    Given a warehouse whose front desk keeps a log of every request

  Scenario: The shipment and its putaway are written to the books together, once
    When the warehouse receives shipment "s-1"
    Then shipment "s-1" is in the books
    And the putaway of shipment "s-1" is in the books
    And putting the goods away was part of the same piece of work as receiving them
    And the request was 1 piece of work, written to the books once

  Scenario: When putting the goods away fails, receiving them fails too
    Given putting goods away fails
    When the warehouse receives shipment "s-1", expecting it to fail
    Then the caller hears that putting the goods away failed
    And nothing is in the books

  Scenario: When the stock list cannot take the news, the whole story is undone
    Given the stock list, which hears of every arrival and putaway, fails when it hears one
    When the warehouse receives shipment "s-1", expecting it to fail
    Then the caller hears that the stock list failed
    And nothing is in the books

  Scenario: Every paper of the story carries its tracking number and says who asked for it
    When the warehouse receives shipment "s-1" under tracking number "story-1"
    Then every request and every piece of news carries tracking number "story-1"
    And putting the goods away was asked for by receiving the shipment
    And the news "goods put away" came from putting the goods away
    And the news "shipment received" came from receiving the shipment

  Scenario: Checkpoints stand around putting away too, the first one outermost
    Given every request passes checkpoint "gate" first and checkpoint "desk" second
    When the warehouse receives shipment "s-1"
    Then the requests passed the checkpoints in this sequence:
      | checkpoint | step   | request                |
      | gate       | enters | receiving the shipment |
      | desk       | enters | receiving the shipment |
      | gate       | enters | putting the goods away |
      | desk       | enters | putting the goods away |
      | desk       | leaves | putting the goods away |
      | gate       | leaves | putting the goods away |
      | desk       | leaves | receiving the shipment |
      | gate       | leaves | receiving the shipment |

  Scenario: An errand a clerk starts never joins the clerk's finished work
    When a clerk starts an errand that receives shipment "late" once the clerk's work is in the books
    Then the errand found no piece of work open
    And shipment "late" is written to the books by a piece of work of its own
