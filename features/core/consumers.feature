Feature: The storefront hears of each shipment the warehouse announces
  The storefront, a department of its own, subscribes to the warehouse's announcements. It
  reads each one into its own idea of a shipment - it shares no code with the warehouse, only
  the announcement's name and fields - and lists the stock for sale. Storefront workers taking
  from one queue share the work; every queue gets its own copy of each announcement.

  Scenario: An announcement crosses from the warehouse to the storefront
    Given a warehouse whose outbox relays to the broker
    And a storefront that lists each announced shipment for sale, keeping an inbox
    When the warehouse registers shipment "s-1"
    Then the storefront eventually lists shipment "s-1" with 100 units
    And the storefront read the announcement into its own idea of a shipment
    And the listing carries the tracking number of the request that registered shipment "s-1"

  Scenario: Workers on one queue share the work, a queue of its own gets every copy
    Given a warehouse whose outbox relays to the broker
    And 2 storefront workers taking from one queue
    And an auditor with a queue of its own
    When the warehouse registers 20 shipments
    Then each of the 20 shipments is eventually listed exactly once
    And both storefront workers listed some of them
    And the auditor eventually saw each of the 20 shipments once
