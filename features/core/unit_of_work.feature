Feature: A shipment and its news are written to the warehouse's database together
  The warehouse keeps its books in a SQL database (a SQLite file here). What a request writes
  and the news it sends out (rows in the outbox) share one database transaction: both are kept
  or neither is. A follow-up request runs inside a savepoint, so its failure undoes only its
  own writes. A change based on an out-of-date version of a record is refused, never silently
  applied. Everything runs on the real front desk, outbox and SQL storage.

  Background:
    Given a warehouse keeping its books and its outbox in a SQLite database

  Scenario: The shipment and its news are written together
    When the warehouse receives shipment "s-1" of 100 units
    Then shipment "s-1" is in the database with 100 units at version 1
    And the outbox holds the news that shipment "s-1" arrived, not yet sent
    And once it is written, the relay sends that news to the broker

  Scenario: An undone request leaves neither the shipment nor its news
    When receiving shipment "s-2" fails after its news was written to the outbox
    Then shipment "s-2" is not in the database
    And the outbox is empty

  Scenario: A failed follow-up request undoes only its own writes
    When the warehouse receives shipment "s-3" with a sample whose receiving fails after its news was written to the outbox
    Then shipment "s-3" is in the database with 100 units at version 1
    And shipment "s-3-sample" is not in the database
    And the outbox holds the news that shipment "s-3" arrived, and nothing else

  Scenario: Two clerks recount from the same version: one count is kept, the other refused
    Given shipment "s-4" was received with 100 units
    When two clerks recount shipment "s-4" at the same time, both from version 1
    Then one recount is kept and the other is refused as out of date
    And shipment "s-4" is in the database with the winner's count at version 2
    And the outbox holds the news of the winner's recount only
