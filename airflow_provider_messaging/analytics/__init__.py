"""Delivery analytics over the message store (pure computation in :mod:`.report`)."""
