"""Web registrations (API.md "Intake", C6): intake routes, and the public form endpoint.

Two blueprints: `intake` is public (auth.py lets endpoints named `intake.*` through without a
token); `intake_routes` manages the routes and needs one.
"""
import json
import logging

from flask import current_app, g, request
from flask_smorest import Blueprint
from marshmallow import fields, validate
from werkzeug.exceptions import RequestEntityTooLarge

from crmkit.envelope import new_id

from ..auth import context, require_role, rpc
from ..errors import ApiError, error_response
from ..ratelimit import TokenBuckets, client_address
from ..schemas import Paging, Strict
from .leads import check_users

log = logging.getLogger(__name__)

blp = Blueprint("intake", __name__, url_prefix="/api/v1/intake", description="Web registrations (public, C6)")
routes_blp = Blueprint("intake_routes", __name__, url_prefix="/api/v1/intake-routes",
                       description="Intake routes: which campaign, owner, pool and rule a web form feeds (C6)")

EDITORS = ("admin", "marketing_director", "marketing_member", "market_manager")
MAX_BODY = 64 * 1024
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")
HONEYPOTS = ("website", "url", "hp")
FORM_FIELDS = ("name", "title", "email", "phone", "mobile", "company", "industry", "city", "province", "need",
               "utm_source", "utm_medium", "utm_campaign")
Id = lambda **kw: fields.String(validate=validate.Length(min=1, max=32), **kw)  # noqa: E731


class RouteIn(Strict):
    key = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{3,100}$"),
                        metadata={"description": "The form's key in POST /intake/{key}: 3-100 of A-Z a-z 0-9 - _"})
    campaign_id = Id(required=True)
    owner_id = Id(allow_none=True, metadata={"description": "Defaults to the campaign's owner."})
    pool_id = Id(allow_none=True)
    rule_id = Id(allow_none=True, metadata={"description": "Runs on each lead instead of the campaign's rule."})


class RoutePatch(Strict):
    active = fields.Boolean(metadata={"description": "false: the form's posts are refused with 410."})
    owner_id = Id(allow_none=True)
    pool_id = Id(allow_none=True)
    rule_id = Id(allow_none=True)


# -- managing routes (token; marketing roles and edit on the campaign) -------------------------------------

@routes_blp.route("", methods=["POST"])
@routes_blp.arguments(RouteIn)
@routes_blp.response(201)
def create_route(data):
    """Route a web form to a campaign (open, and one the caller may edit), an owner, a pool and a rule."""
    require_role(*EDITORS)
    if data.get("owner_id"):
        check_users([data["owner_id"]])
    return rpc("lead", "create_intake_route", data)


@routes_blp.route("", methods=["GET"])
@routes_blp.arguments(Paging, location="query")
def list_routes(args):
    return rpc("lead", "list_intake_routes", args.get("limit"), args.get("cursor"))


@routes_blp.route("/<key>", methods=["GET"])
def get_route(key):
    return rpc("lead", "get_intake_route", key)


@routes_blp.route("/<key>", methods=["PATCH"])
@routes_blp.arguments(RoutePatch)
def update_route(data, key):
    """Switch a route off (`{"active": false}`) or on, or change its owner, pool or rule."""
    require_role(*EDITORS)
    if data.get("owner_id"):
        check_users([data["owner_id"]])
    return rpc("lead", "update_intake_route", key, data)


# -- the public form endpoint ---------------------------------------------------------------------------------

def _limiter() -> TokenBuckets:
    return current_app.extensions["crm_intake_limiter"]


@blp.record_once
def _make_limiter(state):
    settings = state.app.extensions["crm_settings"]
    state.app.extensions["crm_intake_limiter"] = TokenBuckets(settings.intake_burst, settings.intake_per_minute)


def _form() -> dict:
    """The body as a flat {name: text}: JSON (an object of scalars), form-encoded or multipart."""
    if request.mimetype not in CONTENT_TYPES:
        raise ApiError(415, "Send the form as application/json, application/x-www-form-urlencoded or "
                            "multipart/form-data.")
    request.max_content_length = MAX_BODY
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise RequestEntityTooLarge()
    if request.mimetype != "application/json":
        if request.files:
            raise ApiError(422, "Files are not accepted.", {name: "No files here." for name in request.files})
        return request.form.to_dict()
    try:
        body = json.loads(request.get_data() or b"null")
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(422, "The form must be a JSON object of fields.", {"_schema": "Not an object."})
    nested = {name: "Must be text, a number or a boolean." for name, value in body.items()
              if isinstance(value, (dict, list))}
    if nested:
        raise ApiError(422, "The form's fields must be flat.", nested)
    return {name: value if isinstance(value, str) else json.dumps(value)
            for name, value in body.items() if value is not None}


@blp.route("/<key>", methods=["POST"])
@blp.doc(security=[], requestBody={"required": True, "content": {
    mime: {"schema": {"type": "object", "properties": {name: {"type": "string"} for name in FORM_FIELDS}}}
    for mime in CONTENT_TYPES}})
@blp.response(202)
def post_form(key):
    """Public, no token: a web form's registration becomes a lead of the route's campaign (C6).

    Fields (flat; JSON, form-encoded or multipart without files, at most 64 KiB): `name`, `title`,
    `email`, `phone`, `mobile`, `company`, `industry`, `city`, `province`, `need`, `utm_source`,
    `utm_medium`, `utm_campaign`; others (submit buttons…) are ignored. Answers 202 `{"lead_id"}`
    once the lead is stored; 404 for an unknown key, 410 for a switched-off route, 422 for bad
    fields (a name or a company is needed), 415 for another content type, 413 for a larger body.
    Rate-limited per client address (429 with `Retry-After`). Send `Idempotency-Key` to make a
    retried post return the first lead.

    Honeypot: a hidden field `website`, `url` or `hp` that a person leaves empty. If it has a
    value the post is answered 202 with a made-up `lead_id` and nothing is stored.
    """
    settings = current_app.extensions["crm_settings"]
    address = client_address(request.remote_addr, ",".join(request.headers.getlist("X-Forwarded-For")),
                             settings.trusted_proxies)
    wait = _limiter().take(address)
    if wait:
        return error_response(429, "rate_limited", "Too many registrations from your address; try again later.",
                              {"retry_after": wait}, headers={"Retry-After": str(wait)})
    form = _form()
    if any(str(form.get(name) or "").strip() for name in HONEYPOTS):
        log.info("intake %s: honeypot filled by %s, nothing stored", key, address)
        return {"lead_id": new_id()}
    idempotency_key = request.headers.get("Idempotency-Key")
    request_key = f"intake:{key}:{idempotency_key or g.correlation_id}"[:100]
    return current_app.extensions["crm_rpc"].call("lead", "intake", key, form, request_key=request_key,
                                                  context=context("web_form"))
