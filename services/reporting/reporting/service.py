"""The reporting service's Nameko entrypoints: thin translators only."""
from pathlib import Path

from crmkit.consumer import consume_event_batches, consume_events
from crmkit.errors import EXPECTED
from crmkit.glue import OperationsMixin, Storage, rpc

from . import handlers
from .db import ReportingUnitOfWork, metadata

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


class ReportingService(OperationsMixin):
    name = "reporting"

    storage = Storage(ReportingUnitOfWork, metadata)

    @rpc(expected_exceptions=EXPECTED)
    def get_campaign_report(self, campaign_id):
        """R1: the campaign's report. Raises NotFound when no event of it has arrived."""
        return handlers.get_campaign_report(campaign_id, self.storage)

    @consume_events("reporting.on_campaign_event")
    def on_campaign_event(self, event):
        handlers.on_campaign_event(event, self.storage)

    @consume_event_batches("reporting.on_lead_event")
    def on_lead_event(self, events):
        handlers.on_lead_events(events, self.storage)
