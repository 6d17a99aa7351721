Feature: Nested commands share their root's unit of work
  PlaceOrderCommand creates an order and sends ReserveStockCommand from inside its handler.
  The nested command runs in the same unit of work (inside a savepoint), so the order and its
  reservation commit together - once - or not at all.

  Background:
    Given a shop whose mediator logs every message

  Scenario: The order and its reservation commit together, once
    When I send PlaceOrderCommand for order "o-1"
    Then order "o-1" is committed
    And the reservation for order "o-1" is committed
    And the nested command saw the same unit of work as its parent
    And exactly 1 unit of work was opened and committed once

  Scenario: A failing nested command takes its parent down with it
    Given the stock reservation fails
    When I send PlaceOrderCommand for order "o-1" expecting it to fail
    Then the caller got the error "injected fault in the nested"
    And nothing is committed

  Scenario: A failing in-process event handler rolls the whole story back
    Given the in-process event handler fails
    When I send PlaceOrderCommand for order "o-1" expecting it to fail
    Then the caller got the error "injected fault in the event_handler"
    And nothing is committed

  Scenario: Every message of the story carries its correlation and its direct parent
    When I send PlaceOrderCommand for order "o-1" with correlation id "story-1"
    Then every command and event carries correlation id "story-1"
    And the reservation was caused by the order command
    And the StockReserved event was caused by the reservation command
    And the OrderPlaced event was caused by the order command

  Scenario: Middleware runs around nested commands too, outermost first
    Given middleware "outer" with priority 10 and "inner" with priority 20
    When I send PlaceOrderCommand for order "o-1"
    Then the middleware ran in this order:
      | call                     |
      | outer>PlaceOrderCommand  |
      | inner>PlaceOrderCommand  |
      | outer>ReserveStockCommand |
      | inner>ReserveStockCommand |
      | inner<ReserveStockCommand |
      | outer<ReserveStockCommand |
      | inner<PlaceOrderCommand  |
      | outer<PlaceOrderCommand  |

  Scenario: A task spawned in a handler never joins its parent's finished unit of work
    When a handler spawns a task that places order "late" after its parent committed
    Then the task saw no current unit of work
    And order "late" is committed by a unit of work of its own
