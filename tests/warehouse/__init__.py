"""The warehouse: the one toy business of the core's tests and scenarios.

Why a warehouse: everyone knows what it does, it has nothing to do with the real services
(ordering and billing), and its everyday work shows every pattern of the core:

* **receiving a shipment** creates a `Shipment` and puts the goods away with a *nested*
  command that creates a `Putaway` - two aggregates, one unit of work (`receiving.py`);
* **moving stock** between two shelves locks *both* shelves, like any transfer
  (`stock_moves.py`, `MoveStockCommand`);
* its tables are mapped with repositories and created by a migration on the core's
  migrations branch (`sql.py`, `migrations/`);
* the **storefront**, another context, hears of each shipment through the outbox, the
  broker and its own inbox, and lists the new stock for sale (`messaging.py`).

The thing to notice: `domain.py` imports only the core's domain base classes and
`DomainError`; every adapter (in-memory, SQL, messaging) is wired around it, as a service
wires its own domain.
"""
