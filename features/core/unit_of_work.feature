Feature: Unit of work on a SQL database
  A command's writes and its outbox rows share one database transaction: they commit
  together or not at all. A nested command runs in a savepoint, so its failure undoes only
  its own writes. An update based on a stale version is refused, never silently applied.
  These scenarios run the real mediator, outbox middleware and SQL adapters on a SQLite file.

  Background:
    Given an ordering service on a SQLite database with a SQL outbox

  Scenario: The order and its outbox row commit together
    When the customer places order "o-1" for 100
    Then order "o-1" is stored with total 100 at version 1
    And the outbox holds the "OrderPlaced" event of order "o-1", pending
    And after the commit the relay publishes it to the broker

  Scenario: A rollback leaves neither the order nor its outbox row
    When placing order "o-2" fails after its outbox row was written
    Then order "o-2" is not stored
    And the outbox holds no message

  Scenario: A failed nested command undoes only its own writes
    When the customer places order "o-3" with a gift order that fails after its outbox row was written
    Then order "o-3" is stored with total 100 at version 1
    And order "o-3-gift" is not stored
    And the outbox holds the "OrderPlaced" event of order "o-3" only

  Scenario: A concurrent stale update is refused
    Given order "o-4" was placed for 100
    When two customers change the total of order "o-4" at the same time, both from version 1
    Then one change is stored and the other is refused as stale
    And order "o-4" is stored with the winner's total at version 2
    And the outbox holds the "OrderTotalChanged" event of the winner only
