Feature: The mediator runs each root command in one unit of work
  A root command opens a unit of work; whatever it causes joins it; only the root commits.
  When the root ends, the context it set is gone: the next request starts clean.

  Background:
    Given a shop whose mediator logs every message

  Scenario: A root command commits exactly once
    When I send PlaceOrderCommand for order "o-1"
    Then order "o-1" is committed
    And exactly 1 unit of work was opened and committed once

  Scenario: A failing handler rolls everything back and the caller sees the error
    Given the order handler fails after writing
    When I send PlaceOrderCommand for order "o-1" expecting it to fail
    Then the caller got the error "injected fault in the handler"
    And nothing is committed

  Scenario: A handled failure (success = False) is rolled back and publishes nothing
    When I send PlaceOrderCommand for order "o-1" that reports a failure
    Then the response says it did not succeed
    And nothing is committed
    And no OrderPlaced event was dispatched

  Scenario: The context is restored when the root command ends
    When I send PlaceOrderCommand for order "o-1"
    And I send PlaceOrderCommand for order "o-2"
    Then there is no current unit of work any more
    And the two commands have different correlation ids

  Scenario: A query reads through a unit of work and returns a QueryResponse
    Given order "o-1" was placed by customer "c-42"
    When I ask GetOrderQuery for order "o-1"
    Then the query response's result is "c-42"
    And nothing was committed by the query

  Scenario: A command with no handler fails with an error that names it
    When I send a command nobody handles
    Then the caller got the error "No handler is registered for UnhandledCommand"
