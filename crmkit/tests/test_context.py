"""RequestContext: who acts and why, built at the edge (STYLE idiom 7, L15's who/where/why)."""
import pytest

from crmkit.context import RequestContext


def test_context_data_from_the_gateway_becomes_a_plain_request_context():
    ctx = RequestContext.from_context_data({
        "user_id": "u1", "roles": "sales_manager,marketing_member", "team": "east",
        "correlation_id": "corr-1", "channel": "import", "reason": "trade show list",
        "call_id_stack": ["gateway.x.1"]})

    assert ctx == RequestContext(user_id="u1", roles=("sales_manager", "marketing_member"), team="east",
                                 correlation_id="corr-1", channel="import", reason="trade show list")


def test_roles_may_arrive_as_a_list_too():
    assert RequestContext.from_context_data({"roles": ["admin", "sales_member"]}).roles == \
        ("admin", "sales_member")


@pytest.mark.parametrize("data", [{}, {"user_id": "", "roles": "", "team": None, "channel": ""}])
def test_missing_or_empty_context_data_gives_an_anonymous_api_context(data):
    ctx = RequestContext.from_context_data(data)

    assert ctx == RequestContext()
    assert ctx.user_id is None and ctx.roles == () and ctx.channel == "api"


def test_to_context_data_leaves_out_what_is_not_known():
    data = RequestContext(user_id="u1", correlation_id="corr-1").to_context_data()

    assert data == {"user_id": "u1", "correlation_id": "corr-1", "channel": "api"}


def test_a_context_survives_the_trip_through_nameko_context_data():
    ctx = RequestContext(user_id="u1", roles=("admin", "sales_manager"), team="north",
                         correlation_id="c", causation_id="e", channel="rule", reason="why not")

    assert RequestContext.from_context_data(ctx.to_context_data()) == ctx


def test_work_caused_by_an_event_acts_for_the_events_actor_and_keeps_its_correlation():
    ctx = RequestContext(user_id="consumer", roles=("admin",))
    event = {"event_id": "ev1", "actor_id": "u7", "correlation_id": "req-9"}

    caused = ctx.caused_by(event, channel="rule")

    assert caused.user_id == "u7"
    assert caused.correlation_id == "req-9"
    assert caused.causation_id == "ev1"
    assert caused.channel == "rule"
    assert ctx.user_id == "consumer"  # the original is unchanged (frozen)


def test_an_event_without_a_correlation_id_starts_one_with_its_own_id():
    caused = RequestContext().caused_by({"event_id": "ev1", "actor_id": None}, channel="event")

    assert caused.correlation_id == "ev1"
    assert caused.causation_id == "ev1"
    assert caused.user_id is None
