"""Money as `Decimal`: the one helper that turns input into an amount, or refuses it.

Notice what is refused: floats would silently carry binary rounding (0.1 + 0.2), so amounts
are `Decimal` everywhere; non-finite values and fractions of a cent are errors, not rounding.
Guide: docs/patterns/bounded-contexts.md.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from cqrs_ddd_core.primitives.exceptions import DomainError

CENT = Decimal("0.01")


def to_money(value: Decimal | int | str, *, field: str = "amount") -> Decimal:
    """``value`` as a Decimal with two places; raises `DomainError` naming ``field``."""
    if isinstance(value, float):
        raise DomainError(f"{field} must be a Decimal or a decimal string, not a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(f"{field} {value!r} is not a decimal number") from None
    if not amount.is_finite():
        raise DomainError(f"{field} must be a finite number, got {value!r}")
    if amount != amount.quantize(CENT):
        raise DomainError(f"{field} {value!r} has fractions of a cent; use at most 2 decimals")
    amount = amount.quantize(CENT)
    return abs(amount) if amount.is_zero() else amount  # "-0" is zero, never "-0.00"
