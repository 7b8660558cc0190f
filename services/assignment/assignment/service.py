"""The assignment service's Nameko entrypoints: thin translators only."""
from pathlib import Path

from crmkit.consumer import consume_event_batches, consume_events
from crmkit.errors import EXPECTED, Invalid, load_or_invalid
from crmkit.glue import Context, OperationsMixin, ServiceRpc, Storage, rpc

from . import handlers, schemas
from .db import AssignmentUnitOfWork, metadata

# Schemas are built once: constructing one costs more than loading a payload.
CREATE_RULE = schemas.CreateRule()
UPDATE_RULE = schemas.UpdateRule()
CAMPAIGN_RULES = schemas.CampaignRule(many=True)
LEAD_IDS = schemas.LeadIds()

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def _lead_ids(payload, required=True):
    loaded = load_or_invalid(LEAD_IDS, payload)
    if required and not loaded.get("lead_ids"):
        raise Invalid("Name the leads.", {"lead_ids": "Missing data for required field."})
    return loaded


class AssignmentService(OperationsMixin):
    name = "assignment"

    storage = Storage(AssignmentUnitOfWork, metadata)
    ctx = Context()
    lead_rpc = ServiceRpc("lead")
    campaign_rpc = ServiceRpc("campaign")

    @rpc(expected_exceptions=EXPECTED)
    def create_rule(self, payload):
        """A1-A5: create a rule from condition or condition_text. Raises Invalid (paths into the
        tree, or line and column of the text). Emits assignment.rule_created."""
        return handlers.create_rule(load_or_invalid(CREATE_RULE, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def get_rule(self, rule_id):
        """The rule with its condition, text form and plain words. Raises NotFound."""
        return handlers.get_rule(rule_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def update_rule(self, rule_id, payload):
        """A1-A5: change a rule, version + 1. Raises NotFound, Invalid. Emits assignment.rule_updated."""
        return handlers.update_rule(rule_id, load_or_invalid(UPDATE_RULE, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def delete_rule(self, rule_id):
        """Delete a rule (its decisions stay). Raises NotFound. Emits assignment.rule_deleted."""
        return handlers.delete_rule(rule_id, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def list_rules(self, limit=None, cursor=None):
        """Rules, newest first."""
        return handlers.list_rules(self.storage, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def set_campaign_rule(self, campaign_id, rule_id):
        """A6: the campaign's one rule. Raises NotFound (campaign or rule)."""
        return handlers.set_campaign_rule(campaign_id, rule_id, self.storage, self.ctx,
                                          self.campaign_rpc.describe_campaign)

    @rpc(expected_exceptions=EXPECTED)
    def set_campaign_rules(self, campaign_id, entries):
        """A6: the campaign's rules by priority. Raises NotFound, Invalid."""
        return handlers.set_campaign_rules(campaign_id, load_or_invalid(CAMPAIGN_RULES, entries), self.storage,
                                           self.ctx, self.campaign_rpc.describe_campaign)

    @rpc(expected_exceptions=EXPECTED)
    def get_campaign_rules(self, campaign_id):
        return handlers.get_campaign_rules(campaign_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def apply_rule(self, rule_id, payload):
        """A6/A9: run a rule on the caller's leads. Raises Forbidden, NotFound, Invalid."""
        return handlers.apply_rule(rule_id, _lead_ids(payload)["lead_ids"], self.storage, self.ctx,
                                   self.lead_rpc.get_lead, self.lead_rpc.assign_leads)

    @rpc(expected_exceptions=EXPECTED)
    def preview_rule(self, rule_id, payload):
        """A8: matched, unmatched and near misses. Raises NotFound, Invalid."""
        loaded = _lead_ids(payload, required=False)
        return handlers.preview_rule(rule_id, loaded.get("lead_ids"), loaded.get("campaign_id"), self.storage,
                                     self.lead_rpc.get_lead)

    @rpc(expected_exceptions=EXPECTED)
    def lint_rule(self, rule_id):
        """A8: never matching, always true, shadowed. Raises NotFound."""
        return handlers.lint_rule(rule_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def get_assignment_log(self, lead_id, limit=None, cursor=None):
        """A10: the decisions taken for a lead, oldest first."""
        return handlers.get_assignment_log(lead_id, self.storage, limit, cursor)

    # Each batch ends in one bulk assign_leads call, so one batch at a time: more only queue in the
    # lead service (on PostgreSQL seven 500-lead transactions at once each ran past the RPC timeout,
    # and the retries of the timed-out calls fed the jam), and there they take turns with the import
    # that is still storing rows: with two at once, a 100,000-row import on PostgreSQL was stored in
    # 38-44 s; with one, in 31 s, and all assigned as soon (55-60 s).
    @consume_event_batches("assignment.on_lead_created", max_concurrency=1)
    def on_lead_created(self, events):
        handlers.on_leads_created(events, self.storage, self.lead_rpc.assign_leads)

    @consume_event_batches("assignment.on_lead_event")
    def on_lead_event(self, events):
        """The projection of leads (A6-A8) from the events that change a lead (on_lead_created
        writes the new ones)."""
        handlers.on_lead_events(events, self.storage)

    @consume_events("assignment.on_user_event")
    def on_user_event(self, event):
        """Teams and inactive users (A7) from the gateway's user.#."""
        handlers.on_user_event(event, self.storage)
