"""Hooks other apps listen to (deals judges new prices, metrics counts checks).

Receivers only enqueue or count; the work itself lives in their services.
"""

from django.dispatch import Signal

# Sent after a check's transaction commits: check_id, listing_id, price_point_id (or None), outcome.
check_finished = Signal()
