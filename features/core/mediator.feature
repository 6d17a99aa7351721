Feature: The mediator runs each root command in one unit of work
  A root command opens a unit of work; whatever it causes joins it; only the root commits.
  When the root ends, the context it set is gone: the next request starts clean.
  The business is a small warehouse: receiving a shipment records it and puts its goods away.

  Background:
    Given a warehouse whose mediator logs every message

  Scenario: A root command commits exactly once
    When the warehouse receives shipment "s-1"
    Then shipment "s-1" is committed
    And exactly 1 unit of work was opened and committed once

  Scenario: A failing handler rolls everything back and the caller sees the error
    Given receiving a shipment fails after writing it
    When the warehouse receives shipment "s-1", expecting it to fail
    Then the caller got the error "injected fault in the handler"
    And nothing is committed

  Scenario: A handled failure (success = False) is rolled back and publishes nothing
    When the warehouse receives shipment "s-1" but reports a failure
    Then the response says it did not succeed
    And nothing is committed
    And no "shipment received" event was dispatched

  Scenario: The context is restored when the root command ends
    When the warehouse receives shipment "s-1"
    And the warehouse receives shipment "s-2"
    Then there is no current unit of work any more
    And the two commands have different correlation ids

  Scenario: A query reads through a unit of work and returns a query response
    Given shipment "s-1" was received from supplier "acme"
    When I ask who supplied shipment "s-1"
    Then the query response's result is "acme"
    And nothing was committed by the query

  Scenario: A command with no handler fails with an error that names it
    When I send a command nobody handles
    Then the caller got the error "No handler is registered for UnhandledCommand"
