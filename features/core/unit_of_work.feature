Feature: Unit of work on a SQL database
  A command's writes and its outbox rows share one database transaction: they commit
  together or not at all. A nested command runs in a savepoint, so its failure undoes only
  its own writes. An update based on a stale version is refused, never silently applied.
  These scenarios run the real mediator, outbox middleware and SQL adapters on a SQLite file.

  Background:
    Given a warehouse on a SQLite database with a SQL outbox

  Scenario: The shipment and its outbox row commit together
    When the warehouse receives shipment "s-1" of 100 units
    Then shipment "s-1" is stored with 100 units at version 1
    And the outbox holds the "ShipmentReceived" event of shipment "s-1", pending
    And after the commit the relay publishes it to the broker

  Scenario: A rollback leaves neither the shipment nor its outbox row
    When receiving shipment "s-2" fails after its outbox row was written
    Then shipment "s-2" is not stored
    And the outbox holds no message

  Scenario: A failed nested command undoes only its own writes
    When the warehouse receives shipment "s-3" with a sample shipment that fails after its outbox row was written
    Then shipment "s-3" is stored with 100 units at version 1
    And shipment "s-3-sample" is not stored
    And the outbox holds the "ShipmentReceived" event of shipment "s-3" only

  Scenario: A concurrent stale update is refused
    Given shipment "s-4" was received with 100 units
    When two clerks recount shipment "s-4" at the same time, both from version 1
    Then one recount is stored and the other is refused as stale
    And shipment "s-4" is stored with the winner's count at version 2
    And the outbox holds the "ShipmentRecounted" event of the winner only
