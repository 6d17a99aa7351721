Feature: Idempotent consumer (inbox)
  Delivery is at-least-once: a relay may publish a message twice and a broker redelivers what
  it was not sure was processed. The consumer records each processed message in its inbox, in
  the same transaction as the effect, so the effect happens exactly once.

  Background:
    Given a billing consumer with an inbox

  Scenario: A duplicate delivery has its effect once
    When the broker delivers the same "OrderPlaced" of order "o-1" 3 times
    Then order "o-1" is invoiced once
    And the consumer acknowledged all 3 deliveries

  Scenario: Two copies handled at the same time have their effect once
    Given the consumer has a second member on the same queue
    And invoicing takes a while
    When two copies of "OrderPlaced" of order "o-1" arrive at the same time
    Then order "o-1" is invoiced once
    And nothing was dead-lettered

  Scenario: A failed delivery leaves neither an effect nor an inbox record
    Given invoicing always fails with "ledger offline"
    When the broker delivers "OrderPlaced" of order "o-1"
    Then order "o-1" is not invoiced
    And the inbox does not remember the message
