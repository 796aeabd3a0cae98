"""Hooks other apps listen to (deals judges new prices, metrics counts checks).

Receivers only enqueue or count; the work itself lives in their services.
"""

from django.dispatch import Signal

# Sent after a check's transaction commits: check_id, listing_id, product_id, store (its domain),
# method (the extraction layer that answered, or ""), price_point_id (or None), outcome.
check_finished = Signal()

# Sent when an import (or an account import) asked for a target price with a product it added:
# product_id, target_price (a Decimal). deals turns it into a "price at or below" alert rule.
target_price_requested = Signal()
