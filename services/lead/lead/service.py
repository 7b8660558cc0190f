"""The lead service's Nameko entrypoints: thin translators only."""
import os
from dataclasses import replace
from pathlib import Path

from nameko.timer import timer

from crmkit.consumer import consume_events
from crmkit.errors import EXPECTED, Invalid, load_or_invalid
from crmkit.glue import Context, OperationsMixin, ServiceRpc, Storage, rpc

from . import handlers, pool_handlers, schemas
from .db import LeadUnitOfWork, metadata
from .imports_service import ImportEntrypoints
from .work_service import WorkEntrypoints

# Schemas are built once: constructing one costs more than loading a payload.
ASSIGNMENT_LIST = schemas.Assignment(many=True)
CREATE_LEAD = schemas.CreateLead()
CREATE_INTAKE_ROUTE = schemas.CreateIntakeRoute()
INTAKE_FORM = schemas.IntakeForm()
UPDATE_INTAKE_ROUTE = schemas.UpdateIntakeRoute()
LEAD_FILTERS = schemas.LeadFilters()
PATCH_LEAD = schemas.PatchLead()
QUALITY_IN = schemas.QualityIn()
RESPONSE_IN = schemas.ResponseIn()
STATUS_CHANGE = schemas.StatusChange()
MERGE_IN = schemas.MergeIn()
POOL_IN = schemas.PoolIn()
CLAIM_IN = schemas.ClaimIn()
RECYCLE_EVERY = float(os.environ.get("CRM_RECYCLE_EVERY", "60"))

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


class LeadService(WorkEntrypoints, ImportEntrypoints, OperationsMixin):
    name = "lead"

    storage = Storage(LeadUnitOfWork, metadata)
    ctx = Context()
    campaign_rpc = ServiceRpc("campaign")
    assignment_rpc = ServiceRpc("assignment")

    @rpc(expected_exceptions=EXPECTED)
    def create_lead(self, payload, request_key=None):
        """L1: create a lead. Raises Invalid, Conflict (archived campaign). Emits lead.created."""
        cmd = load_or_invalid(CREATE_LEAD, payload)
        return handlers.create_lead(cmd, self.storage, self.ctx, self.campaign_rpc.describe_campaign,
                                    request_key)

    @rpc(expected_exceptions=EXPECTED)
    def get_lead(self, lead_id):
        """The lead as API.md shows it, to a caller who may read it (L4). Raises NotFound."""
        return handlers.get_lead(lead_id, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def get_permissions(self, lead_id):
        """L4: the caller's permission per section and why. Raises NotFound."""
        return handlers.get_permissions(lead_id, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def patch_lead(self, lead_id, payload):
        """L1/L3/L4/L5: change sections, tags, campaign, pool, owner. Raises NotFound, Forbidden
        (naming the sections), Invalid, Conflict. Emits lead.updated."""
        changes = load_or_invalid(PATCH_LEAD, payload)
        return handlers.patch_lead(lead_id, changes, self.storage, self.ctx, self.campaign_rpc.describe_campaign)

    @rpc(expected_exceptions=EXPECTED)
    def set_status(self, lead_id, payload):
        """L6: a checked status move. Raises NotFound, Forbidden, Invalid, Conflict. Emits lead.status_changed."""
        return handlers.set_status(lead_id, load_or_invalid(STATUS_CHANGE, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def record_response(self, lead_id, payload):
        """L7: a response to follow-up. Raises NotFound, Forbidden, Invalid. Emits lead.response_recorded."""
        return handlers.record_response(lead_id, load_or_invalid(RESPONSE_IN, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def list_responses(self, lead_id, limit=None, cursor=None):
        """L7: the lead's responses, oldest first. Raises NotFound."""
        return handlers.list_responses(lead_id, self.storage, self.ctx, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def assess_quality(self, lead_id, payload):
        """L8: an assessor's quality rating. Raises NotFound, Forbidden, Invalid. Emits lead.quality_assessed."""
        return handlers.assess_quality(lead_id, load_or_invalid(QUALITY_IN, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def find_duplicates(self, lead_id):
        """L14: stored leads that look like this one, with what matched. Raises NotFound."""
        return handlers.find_duplicates(lead_id, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def merge_leads(self, payload):
        """L14: {"into", "from": [ids]}; nothing is lost. Raises NotFound, Forbidden, Invalid. Emits lead.merged."""
        cmd = load_or_invalid(MERGE_IN, payload)
        return handlers.merge_leads(cmd["into"], cmd["from_"], self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def create_pool(self, payload):
        """L9: a pool (at most 3 levels). Raises Invalid, Forbidden. Emits pool.created."""
        return pool_handlers.create_pool(load_or_invalid(POOL_IN, payload), self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def get_pool(self, pool_id):
        """L9: a pool the caller may see. Raises NotFound."""
        return pool_handlers.get_pool(pool_id, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def list_pools(self, limit=None, cursor=None):
        """L9: the pools the caller may see."""
        return pool_handlers.list_pools(self.storage, self.ctx, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def claim(self, pool_id, payload):
        """L9: pull leads from a pool. Raises NotFound, Conflict (claim limit), Invalid. Emits lead.claimed."""
        return pool_handlers.claim(pool_id, load_or_invalid(CLAIM_IN, payload)["count"], self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def release(self, lead_id):
        """L9: a claimed lead back to its pool. Raises NotFound, Conflict, Forbidden. Emits lead.released."""
        return pool_handlers.release(lead_id, self.storage, self.ctx)

    @timer(interval=RECYCLE_EVERY)
    def recycle_idle_claims(self):
        """L9: every minute, claimed leads idle for their pool's recycle_days go back. Emits lead.recycled."""
        pool_handlers.recycle(self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def recall(self, lead_id, user_id):
        """L2/L5: take the lead back from an assignee. Raises NotFound, Forbidden. Emits lead.recalled."""
        return handlers.recall(lead_id, user_id, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def list_leads(self, filters=None, limit=None, cursor=None):
        """Leads, newest first, filtered (API.md "Leads"). Raises Invalid."""
        filters = load_or_invalid(LEAD_FILTERS, filters or {})
        return handlers.list_leads(filters, self.storage, self.ctx, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def assign_lead(self, lead_id, assignments, decision_key=None, channel=None, reason=None):
        """L2/L3: add assignees. Raises NotFound, Forbidden, Invalid. Emits lead.assigned."""
        assignments = load_or_invalid(ASSIGNMENT_LIST, assignments)
        ctx = replace(self.ctx, channel=channel or self.ctx.channel, reason=reason or self.ctx.reason)
        return handlers.assign_lead(lead_id, assignments, self.storage, ctx, decision_key)

    @rpc(expected_exceptions=EXPECTED)
    def assign_leads(self, items):
        """A6 in bulk: apply rule decisions, idempotent per decision_key. Emits lead.assigned."""
        return handlers.assign_leads(schemas.load_rule_assignments(items), self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def get_history(self, lead_id, limit=None, cursor=None):
        """L15: the lead's change log, oldest first. Raises NotFound."""
        return handlers.get_history(lead_id, self.storage, self.ctx, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def close_campaign(self, campaign_id):
        """C8: stop taking leads for a campaign being deleted; returns {"leads", "activities"}."""
        return handlers.close_campaign(campaign_id, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def intake(self, key, form, request_key=None):
        """C6: a web form's flat fields through route `key` → {"lead_id"} once committed.
        Raises NotFound (key), Gone (route off), Invalid, Conflict (archived). Emits lead.created."""
        try:
            cmd = load_or_invalid(INTAKE_FORM, form)
        except Invalid:
            handlers.check_intake_route(key, self.storage)  # an unknown or closed key answers first
            raise
        return handlers.intake(key, cmd, self.storage, self.ctx, self.campaign_rpc.describe_campaign,
                               request_key)

    @rpc(expected_exceptions=EXPECTED)
    def create_intake_route(self, payload):
        """C6: route a form key to a campaign. Raises Invalid, Forbidden, Conflict (key taken,
        archived campaign). Emits lead.intake_route_created."""
        return handlers.create_intake_route(load_or_invalid(CREATE_INTAKE_ROUTE, payload), self.storage,
                                            self.ctx, self.campaign_rpc.authorize_campaign,
                                            self.assignment_rpc.get_rule)

    @rpc(expected_exceptions=EXPECTED)
    def get_intake_route(self, key):
        """C6: one route. Raises NotFound."""
        return handlers.get_intake_route(key, self.storage)

    @rpc(expected_exceptions=EXPECTED)
    def list_intake_routes(self, limit=None, cursor=None):
        """C6: the routes by key."""
        return handlers.list_intake_routes(self.storage, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def update_intake_route(self, key, payload):
        """C6: active, owner_id, pool_id, rule_id. Raises NotFound, Invalid, Forbidden.
        Emits lead.intake_route_updated."""
        return handlers.update_intake_route(key, load_or_invalid(UPDATE_INTAKE_ROUTE, payload), self.storage,
                                            self.ctx, self.campaign_rpc.authorize_campaign,
                                            self.assignment_rpc.get_rule)

    @consume_events("lead.on_campaign_event")
    def on_campaign_event(self, event):
        handlers.on_campaign_event(event, self.storage)

    @consume_events("lead.on_user_event")
    def on_user_event(self, event):
        """Teams of users (L4), from the gateway's user.created / user.updated."""
        handlers.on_user_event(event, self.storage)
