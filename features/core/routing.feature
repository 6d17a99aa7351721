Feature: Each piece of the warehouse's news goes where it is addressed
  Every piece of news has its audience: the announcement of a shipment goes to the other
  departments through the broker, the thank-you note to its supplier goes out with the
  notifications, and the log note stays inside the warehouse (it only updates the warehouse's
  own shipment log). Nothing leaves before the registration is in the books. There are three
  ways to address the news: a route table in the warehouse's set-up (what the services use),
  an address written on each kind of news, and a listener that sends on what it hears.

  Background:
    Given a warehouse that sends each kind of news where it is addressed

  Scenario: A route table alone decides where each piece of news goes
    Given a warehouse whose route table sends the announcement to the broker and to the notifications
    When the warehouse registers shipment "s-7"
    Then the broker eventually receives the announcement of shipment "s-7" exactly once
    And the notifications eventually carry the announcement of shipment "s-7"
    And the warehouse's own shipment log noted shipment "s-7"
    And no thank-you note left the warehouse

  Scenario: A listener that sends on what it hears sends it through the outbox
    Given a warehouse whose thank-you notes are heard by a listener that sends them on
    When the warehouse registers shipment "s-8"
    Then the notifications eventually carry the thank-you note of shipment "s-8"
    And no announcement left the warehouse

  Scenario: Each piece of news goes where its kind is addressed
    When the warehouse registers shipment "s-1"
    Then the broker eventually receives the announcement of shipment "s-1" exactly once
    And the notifications eventually carry the thank-you note of shipment "s-1"
    And the warehouse's own shipment log noted shipment "s-1"
    And no log note left the warehouse

  Scenario: The news of an undone registration never leaves
    When registering shipment "s-2" fails after the clerk noted the shipment down
    Then the broker receives nothing
    And the notifications carry nothing
    And the warehouse's own shipment log did not note shipment "s-2"

  Scenario: News that no route matches is refused, not dropped
    Given a router with a route only for the announcement
    When a stock count is sent through the router
    Then sending fails because no route takes a stock count
