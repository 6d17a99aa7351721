Feature: Each request to the warehouse is one piece of work, kept whole or not at all
  Every request to the warehouse - receive a shipment, say who supplied one - goes through the
  front desk (the mediator). The desk opens one piece of work (a unit of work) for the request;
  whatever the request causes joins it, and the books are written once, at the end, or not at
  all. When the request is done nothing of it stays behind for the next one.

  Background:
    Given a warehouse whose front desk keeps a log of every request

  Scenario: Receiving a shipment is written to the books exactly once
    When the warehouse receives shipment "s-1"
    Then shipment "s-1" is in the books
    And the request was 1 piece of work, written to the books once

  Scenario: A clerk who fails part-way undoes everything, and the caller hears why
    Given the clerk receiving shipments fails after noting the shipment down
    When the warehouse receives shipment "s-1", expecting it to fail
    Then the caller hears that the clerk receiving the shipment failed
    And nothing is in the books

  Scenario: A request the clerk turns down is undone and tells nobody
    When the warehouse receives shipment "s-1" but the clerk turns it down
    Then the caller hears that the request did not succeed
    And nothing is in the books
    And nobody heard that shipment "s-1" arrived

  Scenario: Nothing of a finished request stays behind for the next one
    When the warehouse receives shipment "s-1"
    And the warehouse receives shipment "s-2"
    Then no piece of work is left open
    And the two requests have different tracking numbers

  Scenario: A question is answered from the books and changes nothing
    Given shipment "s-1" was received from supplier "acme"
    When someone asks who supplied shipment "s-1"
    Then the answer is "acme"
    And answering wrote nothing to the books

  Scenario: A request nobody at the desk handles is refused by its name
    When someone sends a request to paint the shelves, which nobody handles
    Then the caller hears that no one handles a request to paint the shelves
