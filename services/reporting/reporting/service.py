"""The reporting service's Nameko entrypoints: thin translators only."""
from pathlib import Path

from crmkit.consumer import consume_event_batches
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
        """R1: the campaign's report (with children and roll-up for a parent). NotFound when no event
        of it has arrived."""
        return handlers.get_campaign_report(campaign_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def list_campaign_reports(self, sort="-roi", limit=None, cursor=None):
        """R1/R5: every campaign's headline figures, sorted and paged. Invalid for a bad sort or cursor."""
        return handlers.list_campaign_reports(self.storage, sort, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def get_sales_report(self, campaign_id=None):
        """R3: per person and per pool."""
        return handlers.get_sales_report(self.storage, campaign_id)

    @rpc(expected_exceptions=EXPECTED)
    def get_funnel_report(self, campaign_id=None):
        """R4: the funnel with conversion rates and median days between stages."""
        return handlers.get_funnel_report(self.storage, campaign_id)

    @rpc(expected_exceptions=EXPECTED)
    def export_campaign_report(self, campaign_id):
        """R5: the campaign report as CSV text (with BOM)."""
        return handlers.export_campaign_report(campaign_id, self.storage)

    @rpc
    def rebuild_reports(self):
        """R6: replay every kept event into empty projections. Returns {"replayed", "seconds"}."""
        return handlers.rebuild(self.storage)

    @rpc
    def projection_stats(self):
        """P4: events projected and the latest one's time."""
        return handlers.projection_stats(self.storage)

    @consume_event_batches("reporting.on_campaign_event")
    def on_campaign_event(self, events):
        handlers.project_events(events, self.storage)

    @consume_event_batches("reporting.on_lead_event", max_batch=500)
    def on_lead_event(self, events):
        handlers.project_events(events, self.storage)

    @consume_event_batches("reporting.on_gateway_event")
    def on_gateway_event(self, events):
        """C4: hourly rates of users and the default rate, for effort cost."""
        handlers.project_events(events, self.storage)
