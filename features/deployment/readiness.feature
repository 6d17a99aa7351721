Feature: Live or ready - what an orchestrator asks a replica
  /health/live answers as long as the process answers: restart a replica only when it does not.
  /health/ready answers whether the replica can do its work - its database takes a write
  within a short timeout, its broker link is up, its outbox relay is not stuck - and names
  what failed, so traffic goes elsewhere until the cause is gone.
  Code: core/cqrs_ddd_core/adapters/host/readiness.py. Guide: docs/deployment.md.

  Background:
    Given ordering runs on a SQLite file, allowed 0.3 seconds for a write

  Scenario: A replica whose database takes no write is alive but not ready
    When another connection holds the database's write lock
    Then the replica is live
    And the replica is not ready because its database "took no write within 0.3s"
    When the other connection lets the lock go
    Then the replica is ready

  Scenario: A replica whose outbox relay hangs is alive but not ready
    Given the relay's publishes hang, and 0.5 seconds without a batch counts as stuck
    When a customer places an order
    Then the replica is live
    And eventually the replica is not ready because its relay "finished no batch"
    When the publishes go through again
    Then eventually the replica is ready
