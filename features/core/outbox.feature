Feature: Transactional outbox
  A command's state change and its outgoing events commit together. The relay publishes each
  stored event at least once - through broker outages, racing relays and crashed relays - and
  the events of a command that did not commit never leave the process.

  Scenario: The events of a committed command are relayed to the broker
    Given a warehouse whose outbox relays to the broker
    When the warehouse registers shipment "s-1"
    Then shipment "s-1" is stored
    And the broker eventually receives "ShipmentAnnounced" of shipment "s-1" exactly once
    And the message carries the correlation id of the command that registered shipment "s-1"

  Scenario: The events of a rolled-back command never leave
    Given a warehouse whose outbox relays to the broker
    When registering shipment "s-2" fails after its handler wrote the shipment
    Then shipment "s-2" is not stored
    And the outbox holds no message
    And the broker receives nothing

  Scenario: A command that reports failure publishes nothing
    Given a warehouse whose outbox relays to the broker
    When registering shipment "s-3" is refused by its handler
    Then shipment "s-3" is not stored
    And the outbox holds no message
    And the broker receives nothing

  Scenario: A broker outage loses nothing
    Given a warehouse whose outbox relays to the broker
    And the broker is down
    When the warehouse registers shipments "s-1, s-2, s-3"
    Then the outbox eventually holds 3 messages waiting for a retry
    When the broker comes back
    Then the broker eventually receives "ShipmentAnnounced" of shipments "s-1, s-2, s-3" exactly once each
    And the outbox eventually holds 3 published messages

  Scenario: Two relays never publish a message twice
    Given 400 events waiting in the outbox
    When 4 relays work through the outbox at the same time
    Then each of the 400 events was published exactly once

  Scenario: A crashed relay's claim expires and another relay publishes the message
    Given 1 event waiting in the outbox
    And a relay that claimed it crashed while publishing
    Then no other relay can claim it while the lease holds
    When the lease runs out
    Then another relay publishes it, exactly once
