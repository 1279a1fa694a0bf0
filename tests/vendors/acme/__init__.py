"""Acme: a test-only third vendor, described once and registered from outside the package.

Nothing under ``airflow_provider_messaging/`` names it: a real package would list :data:`ACME` under
the entry-point group ``airflow_provider_messaging.vendors``; the tests call ``register_vendor(ACME)``.
"""

from __future__ import annotations

from airflow_provider_messaging.vendors import VendorSpec

ACME = VendorSpec(
    name="acme",
    title="Acme",
    adapter="tests.vendors.acme.callbacks:AcmeCallbacks",
    hook="tests.vendors.acme.hook:AcmeHook",
    operators=("tests.vendors.acme.operator:AcmeSmsOperator",),
    connection_type="acme",
)
