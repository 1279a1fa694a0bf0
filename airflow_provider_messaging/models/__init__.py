"""Vendor payload models (pydantic v2; no I/O, no Airflow imports).

Import from the vendor modules: ``models.telesign`` and ``models.aerialink``; shared helpers
(``validate``, ``to_wire``, ``parse_vendor_timestamp``) live in ``models._validation``.
"""
