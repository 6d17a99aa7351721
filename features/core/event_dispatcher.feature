Feature: In-process events reach every handler, in priority order, with retries
  The events a command returns are dispatched inside its transaction. Several handlers may
  react to one event; lower priority runs first; a failing handler is retried with backoff
  and, if it keeps failing, its error rolls the command back.

  Scenario: Every handler runs, lowest priority first
    Given a dispatcher with handlers "audit" at priority 10, "stock list" at priority 0 and "label printer" at priority 5
    When a shipment is received and its event dispatched
    Then the handlers ran in the order "stock list, label printer, audit"

  Scenario: A flaky handler is retried until it succeeds
    Given a dispatcher that retries a handler up to 3 times
    And a handler that fails 2 times before it succeeds
    When a shipment is received and its event dispatched
    Then the handler was attempted 3 times
    And the error hook saw attempts 1 and 2

  Scenario: A handler that keeps failing surfaces its error after the retries
    Given a dispatcher that retries a handler up to 2 times
    And a handler that fails 5 times before it succeeds
    When a shipment is received and its event dispatched expecting an error
    Then the error "label printer unavailable" surfaced after 3 attempts
