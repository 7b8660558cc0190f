"""The lead service's entrypoints for the work done on leads (mixed into LeadService): thin translators."""
from crmkit.errors import EXPECTED, load_or_invalid
from crmkit.glue import rpc

from . import work_handlers, work_schemas

LOG_ACTIVITY = work_schemas.LogActivity()
ACTIVITY_FILTERS = work_schemas.ActivityFilters()
CONVERT_LEAD = work_schemas.ConvertLead()
OPPORTUNITY_FILTERS = work_schemas.OpportunityFilters()
UPDATE_OPPORTUNITY = work_schemas.UpdateOpportunity()
WIN_OPPORTUNITY = work_schemas.WinOpportunity()
LOSE_OPPORTUNITY = work_schemas.LoseOpportunity()


class WorkEntrypoints:
    """Activities (L12, C4), conversion (L10), opportunities (L11), deletion (C7). Uses the
    service's `storage` and `ctx`."""

    @rpc(expected_exceptions=EXPECTED)
    def log_activity(self, lead_id, payload):
        """L12: {"type", "subject", "effort_hours", "cost"?, "outcome"?, "occurred_at"?, "opportunity_id"?}.
        Raises NotFound, Forbidden, Invalid. Emits activity.logged."""
        return work_handlers.log_activity(lead_id, load_or_invalid(LOG_ACTIVITY, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def list_lead_activities(self, lead_id, limit=None, cursor=None):
        """L12: the lead's activities, oldest first. Raises NotFound."""
        return work_handlers.list_lead_activities(lead_id, self.storage, self.ctx, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def list_activities(self, filters=None, limit=None, cursor=None):
        """C4/C7: by campaign_id, lead_id, worker_id, deleted leads' included. Raises Invalid."""
        filters = load_or_invalid(ACTIVITY_FILTERS, filters or {})
        return work_handlers.list_activities(filters, self.storage, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def convert_lead(self, lead_id, payload):
        """L10: {"opportunities": [...], "account"?} → {"lead_id", "opportunity_ids", "account_id"}.
        Raises NotFound, Forbidden, Invalid, Conflict. Emits lead.converted, opportunity.created."""
        return work_handlers.convert_lead(lead_id, load_or_invalid(CONVERT_LEAD, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def get_account(self, account_id):
        """L10: the account a lead was converted into. Raises NotFound."""
        return work_handlers.get_account(account_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def list_opportunities(self, filters=None, limit=None, cursor=None):
        """L11: by campaign_id, lead_id, status; newest first. Raises Invalid."""
        filters = load_or_invalid(OPPORTUNITY_FILTERS, filters or {})
        return work_handlers.list_opportunities(filters, self.storage, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def get_opportunity(self, opportunity_id):
        """L11. Raises NotFound."""
        return work_handlers.get_opportunity(opportunity_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def update_opportunity(self, opportunity_id, payload):
        """L11: amount, stage, probability, expected_close. Raises NotFound, Forbidden, Invalid,
        Conflict (closed). Emits opportunity.updated."""
        cmd = load_or_invalid(UPDATE_OPPORTUNITY, payload)
        return work_handlers.update_opportunity(opportunity_id, cmd, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def win_opportunity(self, opportunity_id, payload=None):
        """L11: {"amount"?}. Raises NotFound, Forbidden, Invalid, Conflict. Emits opportunity.won."""
        cmd = load_or_invalid(WIN_OPPORTUNITY, payload)
        return work_handlers.win_opportunity(opportunity_id, cmd, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def lose_opportunity(self, opportunity_id, payload):
        """L11: {"reason"}. Raises NotFound, Forbidden, Invalid, Conflict. Emits opportunity.lost."""
        cmd = load_or_invalid(LOSE_OPPORTUNITY, payload)
        return work_handlers.lose_opportunity(opportunity_id, cmd, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def delete_lead(self, lead_id):
        """C7: tombstone the lead, keep its effort. Raises NotFound, Forbidden. Emits lead.deleted."""
        work_handlers.delete_lead(lead_id, self.storage, self.ctx)
