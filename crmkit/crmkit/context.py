"""Who is acting and why: built at the edge, handed to handlers as a plain object."""
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class RequestContext:
    user_id: str | None = None
    roles: tuple = field(default_factory=tuple)
    team: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    channel: str = "api"
    reason: str | None = None
    policy: str | None = None  # the lead permission conflict policy in force (L4), from the gateway

    @classmethod
    def from_context_data(cls, data: dict) -> "RequestContext":
        roles = data.get("roles") or ()
        if isinstance(roles, str):
            roles = tuple(r for r in roles.split(",") if r)
        return cls(
            user_id=data.get("user_id") or None,
            roles=tuple(roles),
            team=data.get("team") or None,
            correlation_id=data.get("correlation_id") or None,
            causation_id=data.get("causation_id") or None,
            channel=data.get("channel") or "api",
            reason=data.get("reason") or None,
            policy=data.get("policy") or None,
        )

    def to_context_data(self) -> dict:
        data = {
            "user_id": self.user_id,
            "roles": ",".join(self.roles),
            "team": self.team,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "channel": self.channel,
            "reason": self.reason,
            "policy": self.policy,
        }
        return {key: value for key, value in data.items() if value not in (None, "")}

    def caused_by(self, event: dict, channel: str) -> "RequestContext":
        return replace(
            self,
            user_id=event.get("actor_id"),
            correlation_id=event.get("correlation_id") or event.get("event_id"),
            causation_id=event.get("event_id"),
            channel=channel,
        )
