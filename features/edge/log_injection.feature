Feature: A forged log line stays one line
  Ids and text come from clients and other services. A newline inside one, written to the log
  as it is, would start a line the service never wrote. The service's log handler writes every
  control character as its escape, whatever logged it, so one record is always one line.

  Background:
    Given the service's log, written as a running service writes it

  Scenario: A notification for a customer whose id forges a line is logged on one line
    When the notification log receives an order confirmation for the customer "alice\nINFO billing refund of 1000.00 approved"
    Then the log holds exactly one line
    And that line shows the customer as "alice\\nINFO billing refund of 1000.00 approved"

  Scenario: A dead-lettered message whose id carries a newline and an escape sequence is logged on one line
    When a message with the id "m-1\n\x1b[2KINFO all good" is dead-lettered as poison
    Then the log holds exactly one line
    And that line shows the message id as "m-1\\n\\x1b[2KINFO all good"
