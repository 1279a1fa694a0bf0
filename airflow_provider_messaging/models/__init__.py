"""Vendor payload models (pydantic v2; no I/O, no Airflow imports).

``base`` (``VendorModel``, ``LenientModel``, ``validate``, ``to_wire``, ``wire_bytes``) and ``types``
(phone numbers, URLs, timestamps) are shared; each vendor has ``<vendor>.py`` (requests, re-exporting
the rest) and ``<vendor>_callbacks.py`` (responses, callbacks, code table). ``status`` is the delivery
state machine and ``waiting`` the criteria sensors and triggers decide by.
"""
