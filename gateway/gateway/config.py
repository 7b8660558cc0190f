"""Gateway settings, read once at start-up from the environment."""
import os
from dataclasses import dataclass

from crmkit.config import DEFAULT_AMQP_URI, database_url

from .ratelimit import parse_networks

DEV_ADMIN_TOKEN = "dev-admin-token"


@dataclass(frozen=True)
class GatewaySettings:
    amqp_uri: str
    database_url: str
    admin_token: str
    rpc_timeout: float
    rpc_pool_size: int
    health_timeout: float
    intake_burst: int = 20
    intake_per_minute: float = 60.0
    trusted_proxies: tuple = ()  # ip networks whose X-Forwarded-For is believed

    @classmethod
    def from_env(cls):
        env = os.environ
        return cls(
            amqp_uri=env.get("AMQP_URI", DEFAULT_AMQP_URI),
            database_url=database_url("gateway"),
            admin_token=env.get("CRM_ADMIN_TOKEN", DEV_ADMIN_TOKEN),
            rpc_timeout=float(env.get("CRM_RPC_TIMEOUT", "10")),
            rpc_pool_size=int(env.get("CRM_RPC_POOL", "16")),
            health_timeout=float(env.get("CRM_HEALTH_TIMEOUT", "3")),
            intake_burst=int(env.get("CRM_INTAKE_BURST", "20")),
            intake_per_minute=float(env.get("CRM_INTAKE_PER_MINUTE", "60")),
            trusted_proxies=parse_networks(env.get("CRM_TRUSTED_PROXIES", "")),
        )
