Feature: A shipment announced twice is listed for sale once
  The same announcement may arrive more than once: a relay may send it twice, and the broker
  delivers again what it is not sure was handled. The storefront notes every announcement it
  has handled in its inbox, in the same go as listing the stock, so each announcement has its
  effect exactly once (an idempotent consumer).

  Background:
    Given a storefront that lists each announced shipment for sale, keeping an inbox

  Scenario: A duplicate delivery has its effect once
    When the broker delivers the same announcement of shipment "s-1" 3 times
    Then shipment "s-1" is listed once
    And the storefront confirmed all 3 deliveries, recognising all but the first as copies

  Scenario: Two copies handled at the same time have their effect once
    Given a second storefront worker takes from the same queue
    And listing takes a while
    When two copies of the announcement of shipment "s-1" arrive at the same time
    Then shipment "s-1" is listed once
    And nothing was dead-lettered

  Scenario: A failed delivery leaves neither a listing nor a note in the inbox
    Given listing always fails with "catalogue offline"
    When the broker delivers the announcement of shipment "s-1"
    Then shipment "s-1" is not listed
    And the inbox does not remember the announcement
