"""The lead service's Nameko entrypoints: thin translators only."""
from dataclasses import replace
from pathlib import Path

from crmkit.consumer import consume_events
from crmkit.errors import EXPECTED, load_or_invalid
from crmkit.glue import Context, OperationsMixin, ServiceRpc, Storage, rpc

from . import handlers, schemas
from .db import LeadUnitOfWork, metadata

# Schemas are built once: constructing one costs more than loading a payload.
ASSIGNMENT_LIST = schemas.Assignment(many=True)
CREATE_LEAD = schemas.CreateLead()
LEAD_FILTERS = schemas.LeadFilters()
RULE_ASSIGNMENTS = schemas.RuleAssignment(many=True)

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


class LeadService(OperationsMixin):
    name = "lead"

    storage = Storage(LeadUnitOfWork, metadata)
    ctx = Context()
    campaign_rpc = ServiceRpc("campaign")

    @rpc(expected_exceptions=EXPECTED)
    def create_lead(self, payload, request_key=None):
        """L1: create a lead. Raises Invalid, Conflict (archived campaign). Emits lead.created."""
        cmd = load_or_invalid(CREATE_LEAD, payload)
        return handlers.create_lead(cmd, self.storage, self.ctx, self.campaign_rpc.describe_campaign,
                                    request_key)

    @rpc(expected_exceptions=EXPECTED)
    def get_lead(self, lead_id):
        """The lead as API.md shows it. Raises NotFound."""
        return handlers.get_lead(lead_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def list_leads(self, filters=None, limit=None, cursor=None):
        """Leads, newest first, filtered (API.md "Leads"). Raises Invalid."""
        filters = load_or_invalid(LEAD_FILTERS, filters or {})
        return handlers.list_leads(filters, self.storage, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def assign_lead(self, lead_id, assignments, decision_key=None, channel=None, reason=None):
        """L2/L3: add assignees. Raises NotFound, Forbidden, Invalid. Emits lead.assigned."""
        assignments = load_or_invalid(ASSIGNMENT_LIST, assignments)
        ctx = replace(self.ctx, channel=channel or self.ctx.channel, reason=reason or self.ctx.reason)
        return handlers.assign_lead(lead_id, assignments, self.storage, ctx, decision_key)

    @rpc(expected_exceptions=EXPECTED)
    def assign_leads(self, items):
        """A6 in bulk: apply rule decisions, idempotent per decision_key. Emits lead.assigned."""
        return handlers.assign_leads(load_or_invalid(RULE_ASSIGNMENTS, items), self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def get_history(self, lead_id, limit=None, cursor=None):
        """L15: the lead's change log, oldest first. Raises NotFound."""
        return handlers.get_history(lead_id, self.storage, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def close_campaign(self, campaign_id):
        """C8: stop taking leads for a campaign being deleted; returns {"leads", "activities"}."""
        return handlers.close_campaign(campaign_id, self.storage)

    @consume_events("lead.on_campaign_event")
    def on_campaign_event(self, event):
        handlers.on_campaign_event(event, self.storage)
