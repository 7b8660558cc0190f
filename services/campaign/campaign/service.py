"""The campaign service's Nameko entrypoints: thin translators only."""
from pathlib import Path

from crmkit.errors import EXPECTED, load_or_invalid
from crmkit.glue import Context, OperationsMixin, Storage, rpc

from . import handlers, schemas
from .db import CampaignUnitOfWork, metadata

# Schemas are built once: constructing one costs more than loading a payload.
CAMPAIGN_FILTERS = schemas.CampaignFilters()
CREATE_CAMPAIGN = schemas.CreateCampaign()
UPDATE_CAMPAIGN = schemas.UpdateCampaign()

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


class CampaignService(OperationsMixin):
    name = "campaign"

    storage = Storage(CampaignUnitOfWork, metadata)
    ctx = Context()

    @rpc(expected_exceptions=EXPECTED)
    def create_campaign(self, payload):
        """C1: create a campaign. Raises Invalid. Emits campaign.created."""
        cmd = load_or_invalid(CREATE_CAMPAIGN, payload)
        return handlers.create_campaign(cmd, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def get_campaign(self, campaign_id):
        """The campaign (archived ones too). Raises NotFound."""
        return handlers.get_campaign(campaign_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def list_campaigns(self, filters=None, limit=None, cursor=None):
        """Campaigns, newest first; archived ones only with include_archived. Raises Invalid."""
        filters = load_or_invalid(CAMPAIGN_FILTERS, filters or {})
        return handlers.list_campaigns(filters, self.storage, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def update_campaign(self, campaign_id, payload):
        """C1: partial update. Raises NotFound, Invalid, Conflict, Forbidden. Emits campaign.updated."""
        changes = load_or_invalid(UPDATE_CAMPAIGN, payload)
        return handlers.update_campaign(campaign_id, changes, self.storage, self.ctx)
