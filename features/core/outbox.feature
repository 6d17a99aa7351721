Feature: The warehouse's announcements leave only once their shipment is in the books
  When the warehouse registers a shipment it writes the shipment and its announcement to the
  other departments in one go - the announcement into its outbox - so both are kept or
  neither is. A relay then carries each announcement to the broker at least once, through
  broker outages, relays racing each other and relays that crash; the announcement of a
  registration that was undone never leaves the warehouse.

  Scenario: The announcement of a registered shipment reaches the broker
    Given a warehouse whose outbox relays to the broker
    When the warehouse registers shipment "s-1"
    Then shipment "s-1" is in the books
    And the broker eventually receives the announcement of shipment "s-1" exactly once
    And the announcement carries the tracking number and the reference of the request that registered shipment "s-1"

  Scenario: The announcement of an undone registration never leaves
    Given a warehouse whose outbox relays to the broker
    When registering shipment "s-2" fails after the clerk noted the shipment down
    Then shipment "s-2" is not in the books
    And the outbox is empty
    And the broker receives nothing

  Scenario: A registration the clerk turns down announces nothing
    Given a warehouse whose outbox relays to the broker
    When the clerk turns down registering shipment "s-3"
    Then shipment "s-3" is not in the books
    And the outbox is empty
    And the broker receives nothing

  Scenario: A broker outage loses nothing
    Given a warehouse whose outbox relays to the broker
    And the broker is down
    When the warehouse registers shipments "s-1, s-2, s-3"
    Then the outbox eventually holds 3 announcements waiting to be tried again
    When the broker comes back
    Then the broker eventually receives the announcements of shipments "s-1, s-2, s-3" exactly once each
    And the outbox eventually holds 3 announcements marked as sent

  Scenario: A relay that books its sendings together still sends each announcement at once
    Given a warehouse whose outbox relay books what it sent at most 2 seconds later
    When the warehouse registers shipments "s-1, s-2, s-3", each announced before the next
    Then the 3 announcements are still booked as being sent
    And the outbox eventually holds 3 announcements marked as sent
    And all 3 were booked as sent in one write

  Scenario: Relays working side by side never send an announcement twice
    Given 400 announcements waiting in the outbox
    When 4 relays work through the outbox at the same time
    Then each of the 400 announcements was sent exactly once

  Scenario: A crashed relay's claim runs out and another relay sends the announcement
    Given 1 announcement waiting in the outbox
    And a relay that claimed it crashed while sending it
    Then no other relay can claim it while the claim lasts
    When the claim runs out
    Then another relay sends it, exactly once
