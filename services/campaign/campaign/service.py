"""The campaign service's Nameko entrypoints: thin translators only."""
from pathlib import Path

from crmkit.errors import EXPECTED, Invalid, load_or_invalid
from crmkit.glue import Context, OperationsMixin, ServiceRpc, Storage, rpc

from . import handlers, schemas
from .db import CampaignUnitOfWork, metadata
from .model import LEVELS

# Schemas are built once: constructing one costs more than loading a payload.
CAMPAIGN_FILTERS = schemas.CampaignFilters()
CREATE_CAMPAIGN = schemas.CreateCampaign()
UPDATE_CAMPAIGN = schemas.UpdateCampaign()
EXPENSE_IN = schemas.ExpenseIn()
PARTICIPANTS = schemas.Participant(many=True)

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


class CampaignService(OperationsMixin):
    name = "campaign"

    storage = Storage(CampaignUnitOfWork, metadata)
    ctx = Context()
    lead_rpc = ServiceRpc("lead")

    @rpc(expected_exceptions=EXPECTED)
    def create_campaign(self, payload):
        """C1: create a campaign. Raises Invalid. Emits campaign.created."""
        cmd = load_or_invalid(CREATE_CAMPAIGN, payload)
        return handlers.create_campaign(cmd, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def get_campaign(self, campaign_id):
        """The campaign (archived ones too) for a caller with view (C2). Raises NotFound (no access
        looks the same as no campaign)."""
        return handlers.get_campaign(campaign_id, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def authorize_campaign(self, campaign_id, level):
        """C2: the campaign if the caller has `level` (view, edit, manage) on it.
        Raises NotFound (no access at all), Forbidden (less than `level`), Invalid."""
        if level not in LEVELS:
            raise Invalid("Unknown permission level.", {"level": f"One of {', '.join(LEVELS)}."})
        return handlers.authorize_campaign(campaign_id, level, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def describe_campaign(self, campaign_id):
        """For other services only (the gateway never calls it): the campaign whoever asks,
        without the participants check of get_campaign. Raises NotFound."""
        return handlers.describe_campaign(campaign_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def list_campaigns(self, filters=None, limit=None, cursor=None):
        """Campaigns the caller can see, newest first; archived ones only with include_archived.
        Raises Invalid."""
        filters = load_or_invalid(CAMPAIGN_FILTERS, filters or {})
        return handlers.list_campaigns(filters, self.storage, self.ctx, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def update_campaign(self, campaign_id, payload):
        """C1: partial update. Raises NotFound, Invalid, Conflict, Forbidden. Emits campaign.updated
        and, when the status moved, campaign.status_changed."""
        changes = load_or_invalid(UPDATE_CAMPAIGN, payload)
        return handlers.update_campaign(campaign_id, changes, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def set_participants(self, campaign_id, payload):
        """C2: replace the participants [{user_id, permission}]. Raises NotFound, Forbidden, Invalid,
        Conflict. Emits campaign.participants_changed."""
        given = load_or_invalid(PARTICIPANTS, payload if isinstance(payload, list) else None)
        return handlers.set_participants(campaign_id, given, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def delete_campaign(self, campaign_id):
        """C7/C8: archive (leads, activities or expenses) or destroy. Raises NotFound, Forbidden.
        Emits campaign.archived or campaign.deleted."""
        return handlers.delete_campaign(campaign_id, self.storage, self.ctx, self.lead_rpc.close_campaign)

    @rpc(expected_exceptions=EXPECTED)
    def record_expense(self, campaign_id, payload):
        """C3: record an expense. Raises NotFound, Invalid, Conflict, Forbidden. Emits campaign.expense_recorded."""
        return handlers.record_expense(campaign_id, load_or_invalid(EXPENSE_IN, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def list_expenses(self, campaign_id, limit=None, cursor=None, include_removed=False):
        """C3: the campaign's expenses, oldest first. Raises NotFound."""
        return handlers.list_expenses(campaign_id, self.storage, self.ctx, limit, cursor, include_removed)

    @rpc(expected_exceptions=EXPECTED)
    def remove_expense(self, campaign_id, expense_id):
        """C3: take an expense back (kept for audit). Raises NotFound, Conflict, Forbidden.
        Emits campaign.expense_removed."""
        return handlers.remove_expense(campaign_id, expense_id, self.storage, self.ctx)
