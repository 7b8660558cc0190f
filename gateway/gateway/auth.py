"""Bearer tokens and roles (API.md "Auth", "Users")."""
import uuid

from flask import current_app, g, request

from .errors import ApiError

# Public without a token: API.md's list, plus /metrics (as scrapers expect) and the shells of the
# dashboard and operators' pages (their data needs a token).
PUBLIC = frozenset({"health.health", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "static",
                    "metrics.metrics", "ops.ops_page", "dashboard.dashboard"})
PUBLIC_PREFIXES = ("intake.",)
ROLES = ("admin", "marketing_director", "marketing_member", "market_manager", "market_member",
         "sales_manager", "sales_member")


def authenticate():
    """before_request: resolve the caller; public endpoints pass without a token."""
    g.correlation_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    g.user = None
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC or endpoint.startswith(PUBLIC_PREFIXES) or request.endpoint is None:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "A bearer token is required.")
    user = current_app.extensions["crm_users"].by_token(token.strip())
    if user is None:
        raise ApiError(401, "The token is not valid.")
    g.user = user
    return None


def require_role(*roles):
    if not set(roles) & set(g.user["roles"]):
        raise ApiError(403, f"This needs one of the roles: {', '.join(roles)}.")


def context(channel="api") -> dict:
    """Nameko context data for the services: who acts, with what roles, under which request."""
    user = g.get("user") or {}
    return {"user_id": user.get("id"), "roles": ",".join(user.get("roles", [])),
            "team": user.get("team"), "correlation_id": g.correlation_id, "channel": channel,
            "policy": g.get("policy")}


def request_context():
    """The caller as the gateway's own units of work record it (actor of its events)."""
    from crmkit.context import RequestContext

    user = g.get("user") or {}
    return RequestContext(user_id=user.get("id"), roles=tuple(user.get("roles", ())), team=user.get("team"),
                          correlation_id=g.correlation_id)


def rpc(service, method, *args, **kwargs):
    return current_app.extensions["crm_rpc"].call(service, method, *args, context=context(), **kwargs)
