"""The gateway's RPC channel when no service listens (a mandatory publish comes back)."""
from types import SimpleNamespace

from amqp import spec
from amqp.exceptions import ChannelError, error_for_code

from gateway.rpc import RpcChannel, _Unroutable


def test_a_returned_request_answers_the_waiting_call_as_unroutable():
    channel = RpcChannel.__new__(RpcChannel)  # no broker: only the callback is exercised
    channel._waiting, channel._reply = "c1", None
    returned = SimpleNamespace(properties={"correlation_id": "c1"})
    exc = error_for_code(312, "NO_ROUTE", spec.Basic.Return, ChannelError)

    channel._on_return(exc, "", "lead", returned)  # as py-amqp's Channel._on_basic_return calls it

    assert isinstance(channel._reply, _Unroutable) and "no service listens on lead" in str(channel._reply)
