Feature: Messages are rebuilt from stored payloads only through explicit registration
  A payload from a queue names its type. Only registered names can be rebuilt, so a payload
  can never instantiate an arbitrary class; a known name with bad fields is refused, by field.

  Background:
    Given a message registry with RenameCommand and FindQuery registered

  Scenario: A registered command is hydrated fully typed and can be sent
    When the payload {"name": "Ada"} arrives as "RenameCommand"
    Then it is hydrated as a RenameCommand with name "Ada"
    And sending it through the mediator returns "Ada"

  Scenario: A registered query is hydrated with its fields converted
    When the payload {"prefix": "A", "limit": "3"} arrives as "FindQuery"
    Then it is hydrated as a FindQuery with limit 3

  Scenario: An unknown message name is refused by name
    When the payload {} arrives as "DropTablesCommand"
    Then hydrating it as a command gives nothing
    And hydrating it strictly fails with "Unknown command or query type 'DropTablesCommand'"

  Scenario: A known name with bad fields is refused, naming the fields
    When the payload {"limit": "many"} arrives as "FindQuery"
    Then hydrating it fails naming the fields "prefix, limit"
