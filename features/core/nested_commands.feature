Feature: Nested commands share their root's unit of work
  Receiving a shipment records it, then puts its goods away with a nested command sent from
  inside its handler. The nested command runs in the same unit of work (inside a savepoint),
  so the shipment and its putaway commit together - once - or not at all.

  Background:
    Given a warehouse whose mediator logs every message

  Scenario: The shipment and its putaway commit together, once
    When the warehouse receives shipment "s-1"
    Then shipment "s-1" is committed
    And the putaway of shipment "s-1" is committed
    And putting the goods away saw the same unit of work as receiving them
    And exactly 1 unit of work was opened and committed once

  Scenario: A failing nested command takes its parent down with it
    Given putting goods away fails
    When the warehouse receives shipment "s-1", expecting it to fail
    Then the caller got the error "injected fault in the nested"
    And nothing is committed

  Scenario: A failing in-process event handler rolls the whole story back
    Given the in-process event handler fails
    When the warehouse receives shipment "s-1", expecting it to fail
    Then the caller got the error "injected fault in the event_handler"
    And nothing is committed

  Scenario: Every message of the story carries its correlation and its direct parent
    When the warehouse receives shipment "s-1" with correlation id "story-1"
    Then every command and event carries correlation id "story-1"
    And putting the goods away was caused by receiving the shipment
    And the "goods put away" event was caused by putting the goods away
    And the "shipment received" event was caused by receiving the shipment

  Scenario: Middleware runs around nested commands too, outermost first
    Given middleware "outer" with priority 10 and "inner" with priority 20
    When the warehouse receives shipment "s-1"
    Then the middleware ran in this order:
      | middleware | step   | command                |
      | outer      | enters | receiving the shipment |
      | inner      | enters | receiving the shipment |
      | outer      | enters | putting the goods away |
      | inner      | enters | putting the goods away |
      | inner      | leaves | putting the goods away |
      | outer      | leaves | putting the goods away |
      | inner      | leaves | receiving the shipment |
      | outer      | leaves | receiving the shipment |

  Scenario: A task spawned in a handler never joins its parent's finished unit of work
    When a handler spawns a task that receives shipment "late" after its parent committed
    Then the task saw no current unit of work
    And shipment "late" is committed by a unit of work of its own
