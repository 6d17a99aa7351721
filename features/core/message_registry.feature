Feature: Messages are rebuilt from stored payloads only through explicit registration
  A payload from a queue names its type. Only registered names can be rebuilt, so a payload
  can never instantiate an arbitrary class; a known name with bad fields is refused, by field.

  Background:
    Given a message registry that knows labelling a shelf and finding shelves

  Scenario: A registered command is hydrated fully typed and can be sent
    When a "LabelShelfCommand" arrives with the fields
      | field | value |
      | label | Bulk  |
    Then it is hydrated as a command to label a shelf "Bulk"
    And sending it through the mediator returns "Bulk"

  Scenario: A registered query is hydrated with its fields converted
    When a "FindShelvesQuery" arrives with the fields
      | field  | value |
      | prefix | A     |
      | limit  | 3     |
    Then it is hydrated as a query for at most 3 shelves

  Scenario: An unknown message name is refused by name
    When a "DropTablesCommand" arrives with no fields
    Then hydrating it as a command gives nothing
    And hydrating it strictly fails with "Unknown command or query type 'DropTablesCommand'"

  Scenario: A known name with bad fields is refused, naming the fields
    When a "FindShelvesQuery" arrives with the fields
      | field | value |
      | limit | many  |
    Then hydrating it fails naming the fields "prefix, limit"
