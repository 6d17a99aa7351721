Feature: A request on a slip is read back only if the warehouse knows its kind
  Requests can reach the warehouse as slips from a queue: the kind of request, and its fields
  written as plain text. Only the kinds on the warehouse's list (the message registry) are read
  back into a real request, so a slip can never make the warehouse do what it was not told it
  could; a known kind with bad fields is refused, naming those fields.

  Background:
    Given the warehouse knows two kinds of slip: "label a shelf" and "find shelves"

  Scenario: A slip to label a shelf is read back as that request and can be carried out
    When a slip "label a shelf" arrives with
      | field | value |
      | label | Bulk  |
    Then it reads as a request to label a shelf "Bulk"
    And carrying it out through the front desk answers "Bulk"

  Scenario: A slip to find shelves is read back with its numbers as numbers
    When a slip "find shelves" arrives with
      | field  | value |
      | prefix | A     |
      | limit  | 3     |
    Then it reads as a question for at most 3 shelves

  Scenario: A slip of a kind nobody registered is refused by that kind
    When a slip "drop all tables" arrives with nothing written on it
    Then read leniently, it gives nothing
    And read strictly, it is refused as an unknown kind "drop all tables"

  Scenario: A known kind with bad fields is refused, naming the fields
    When a slip "find shelves" arrives with
      | field | value |
      | limit | many  |
    Then reading it is refused, naming the fields "prefix, limit"
