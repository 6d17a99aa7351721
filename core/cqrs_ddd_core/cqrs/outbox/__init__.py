"""The transactional outbox: events are stored with the state change, then relayed.

`buffered.BufferedOutbox` is what a service wires in (a publisher that writes rows in the
current unit of work, plus the background worker that relays them); `service.OutboxService` is
the relay's one batch: claim with a lease, publish concurrently, mark each outcome.
Scenarios: features/core/outbox.feature.
Guide: docs/components/outbox.md, docs/patterns/outbox-flow.md.
"""
