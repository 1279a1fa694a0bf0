"""The message store: sends (idempotency), delivery callbacks, inbound messages and opt-outs.

Correctness comes from the database, not from process memory: every write that touches one message
runs under a per-message lock (a PostgreSQL transaction-level advisory lock; SQLite serializes
writers with ``BEGIN IMMEDIATE``), so two receivers and a worker can never lose each other's updates.
:class:`MessageStore` is the one entry point; each of its parts is a module of this package with one
job (see the class docstring). This package never imports Airflow.
"""

from __future__ import annotations

from airflow_provider_messaging.store.campaigns import CampaignsPart
from airflow_provider_messaging.store.caps import CapsPart
from airflow_provider_messaging.store.deliveries import DeliveriesPart
from airflow_provider_messaging.store.inbound import InboundPart
from airflow_provider_messaging.store.optouts import OptOutsPart
from airflow_provider_messaging.store.reads import ReadsPart
from airflow_provider_messaging.store.reservations import ReservationsPart
from airflow_provider_messaging.store.schema_version import SchemaVersionPart
from airflow_provider_messaging.store.sends import SendsPart
from airflow_provider_messaging.store.skips import SkipsPart
from airflow_provider_messaging.store.watchers import WatchersPart


class MessageStore(
    SchemaVersionPart,
    ReservationsPart,
    SendsPart,
    SkipsPart,
    CapsPart,
    DeliveriesPart,
    ReadsPart,
    CampaignsPart,
    InboundPart,
    WatchersPart,
    OptOutsPart,
):
    """Persistence for messages, channel attempts, raw callbacks, inbound messages and opt-outs.

    One object per database URL (``MessageStore(url)``): the engines, transactions and key locks are
    in :mod:`.base`; each part adds the methods of one job:

    * :mod:`.schema_version` - check and migrate the schema;
    * :mod:`.reservations`, :mod:`.sends` - the send ledger's storage (reserve; complete, fail, release);
    * :mod:`.skips`, :mod:`.caps` - what the sending policy stores (skips) and counts (frequency caps);
    * :mod:`.deliveries` - delivery callbacks (the receiver's group commit) and message summaries;
    * :mod:`.reads`, :mod:`.campaigns` - statuses and listings; a campaign's aggregate counts;
    * :mod:`.inbound`, :mod:`.watchers` - inbound messages; the asset watchers' cursors;
    * :mod:`.optouts` - the opt-out list and the consent records.
    """
