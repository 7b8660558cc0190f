"""The assignment service's Nameko entrypoints: thin translators only."""
from pathlib import Path

from crmkit.consumer import consume_event_batches
from crmkit.errors import EXPECTED, load_or_invalid
from crmkit.glue import Context, OperationsMixin, ServiceRpc, Storage, rpc

from . import handlers, schemas
from .db import AssignmentUnitOfWork, metadata

# Schemas are built once: constructing one costs more than loading a payload.
CREATE_RULE = schemas.CreateRule()

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


class AssignmentService(OperationsMixin):
    name = "assignment"

    storage = Storage(AssignmentUnitOfWork, metadata)
    ctx = Context()
    lead_rpc = ServiceRpc("lead")
    campaign_rpc = ServiceRpc("campaign")

    @rpc(expected_exceptions=EXPECTED)
    def create_rule(self, payload):
        """A1-A3: create a rule. Raises Invalid (paths into the condition tree)."""
        return handlers.create_rule(load_or_invalid(CREATE_RULE, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def get_rule(self, rule_id):
        """The rule with its condition and text form. Raises NotFound."""
        return handlers.get_rule(rule_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def list_rules(self, limit=None, cursor=None):
        """Rules, newest first."""
        return handlers.list_rules(self.storage, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def set_campaign_rule(self, campaign_id, rule_id):
        """A6: attach a rule to a campaign. Raises NotFound (campaign or rule)."""
        return handlers.set_campaign_rule(campaign_id, rule_id, self.storage, self.ctx,
                                          self.campaign_rpc.describe_campaign)

    @rpc(expected_exceptions=EXPECTED)
    def get_assignment_log(self, lead_id, limit=None, cursor=None):
        """A10: the decisions taken for a lead, oldest first."""
        return handlers.get_assignment_log(lead_id, self.storage, limit, cursor)

    @consume_event_batches("assignment.on_lead_created")
    def on_lead_created(self, events):
        handlers.on_leads_created(events, self.storage, self.lead_rpc.assign_leads)
