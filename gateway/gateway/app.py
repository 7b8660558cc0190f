"""The Flask app factory: the one HTTP entry of the CRM (P3)."""
import logging

from flask import Flask, g
from flask_smorest import Api

from . import auth, errors
from .config import GatewaySettings
from .db import UserStore
from .events import GatewayRelay
from .rpc import RpcPool


class CrmApi(Api):
    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


def create_app(settings: GatewaySettings | None = None) -> Flask:
    settings = settings or GatewaySettings.from_env()
    app = Flask(__name__)
    app.json.ensure_ascii = False  # Chinese text goes out as UTF-8, not \u escapes
    app.json.sort_keys = False
    app.config.update(
        MAX_CONTENT_LENGTH=1024 * 1024,
        API_TITLE="CRM marketing API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
            "info": {"description": "Campaigns, leads, assignment rules and reports. "
                                    "Errors: {\"error\": {\"code\", \"message\", \"details\"}}."},
        },
    )
    users = UserStore(settings.database_url)
    relay = GatewayRelay(users.engine, settings.amqp_uri)
    users.on_commit = relay.publish_now
    relay.start()
    users.bootstrap_admin(settings.admin_token)
    app.extensions["crm_users"] = users
    app.extensions["crm_rpc"] = RpcPool(settings.amqp_uri, settings.rpc_pool_size, settings.rpc_timeout)
    app.extensions["crm_settings"] = settings

    api = CrmApi(app)
    from .resources import campaigns, health, intake, leads, ops, reports, rules, settings as settings_resources
    from .resources import pools, users as user_resources
    from .resources import work
    for module in (health, user_resources, settings_resources, campaigns, leads, rules, reports, ops, intake, pools):
        api.register_blueprint(module.blp)
    api.register_blueprint(intake.routes_blp)
    api.register_blueprint(rules.campaign_rules_blp)
    from .resources import imports
    api.register_blueprint(imports.blp)
    for blueprint in work.BLUEPRINTS:
        api.register_blueprint(blueprint)
    api.register_blueprint(reports.pages)
    from . import metrics
    metrics.install(app)
    errors.register(app)
    app.before_request(auth.authenticate)

    @app.after_request
    def _request_id(response):
        if g.get("correlation_id"):
            response.headers["X-Request-Id"] = g.correlation_id
        return response

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app
