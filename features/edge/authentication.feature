Feature: Only a token signed with the service's secret gets in
  Every route but /health and the API description asks for "Authorization: Bearer <JWT>": an
  HS256 token signed with the service's AUTH_SECRET, naming its caller (sub) and when it
  expires (exp). Anything else is a 401 whose WWW-Authenticate header says what to do: bring a
  token, or, when one was sent, bring a valid one (error="invalid_token").
  Code: core/cqrs_ddd_core/adapters/litestar/auth.py. Guide: docs/security.md.

  Scenario: A token from another secret is refused
    Given a token for "alice" signed with another secret
    When "alice" lists her orders with that token
    Then the answer is 401 with WWW-Authenticate 'Bearer error="invalid_token"'

  Scenario: A request without a token is told to bring one
    When someone lists the orders without a token
    Then the answer is 401 with WWW-Authenticate 'Bearer'

  Scenario: Health and the API description are open to anyone
    When someone reads /health and /schema/openapi.json without a token
    Then both answer 200
