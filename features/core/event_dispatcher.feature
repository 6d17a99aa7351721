Feature: Everyone who reacts to an arrival hears of it, in turn, with second chances
  The news that a shipment arrived goes to everyone inside the warehouse who reacts to it (the
  event dispatcher), while the arrival is still being written to the books. Several may listen;
  the lowest priority hears first. A listener that stumbles is told again a moment later and,
  if it keeps stumbling, its complaint stops the arrival, so nothing of it is kept.

  Scenario: Every listener hears the news, lowest priority first
    Given the news of an arrival goes to "audit" at priority 10, "stock list" at priority 0 and "label printer" at priority 5
    When a shipment arrives and the news is passed on
    Then they heard it one after the other: "stock list, label printer, audit"

  Scenario: A label printer that jams is told again until it prints
    Given a listener that stumbles is told again up to 3 times
    And a label printer that jams 2 times before it prints
    When a shipment arrives and the news is passed on
    Then the label printer was told 3 times
    And the supervisor heard of the jams at tries 1 and 2

  Scenario: A label printer that stays jammed stops the arrival with its complaint
    Given a listener that stumbles is told again up to 2 times
    And a label printer that jams 5 times before it prints
    When a shipment arrives and the news is passed on, expecting a complaint
    Then the complaint "label printer unavailable" came after 3 tries
