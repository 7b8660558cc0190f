"""GET /health: every service answers by RPC, with its dead-letter count (P4)."""
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from flask_smorest import Blueprint

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Health (public)")
SERVICES = ("campaign", "lead", "assignment", "reporting")


def ask_each(question) -> dict:
    """question(service) for the four services at once; one that fails is reported down, not raised."""
    def ask(service):
        try:
            return service, question(service)
        except Exception as exc:  # noqa: BLE001 - a down service is reported, not raised
            return service, {"status": "down", "error": f"{type(exc).__name__}: {exc}"}
    with ThreadPoolExecutor(max_workers=len(SERVICES)) as executor:
        return dict(executor.map(ask, SERVICES))


@blp.route("/health")
@blp.doc(security=[])
def health():
    """Public: "ok" when all four services answer, else "degraded"."""
    pool = current_app.extensions["crm_rpc"]
    timeout = current_app.extensions["crm_settings"].health_timeout

    services = ask_each(lambda service: pool.call(service, "health", timeout=timeout))
    status = "ok" if all(s.get("status") == "ok" for s in services.values()) else "degraded"
    return {"status": status, "services": services,
            "dead_letters": sum(s.get("dead_letters", 0) for s in services.values())}
