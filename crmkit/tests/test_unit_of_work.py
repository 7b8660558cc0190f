"""SqlUnitOfWork and handle_once on a real SQLite file (STYLE idioms 2, 4 and 5)."""
import json
from datetime import datetime

import pytest
from sqlalchemy import insert

from crmkit import envelope
from crmkit.context import RequestContext
from crmkit.db import AlreadyProcessed
from crmkit.inbox import handle_once

CTX = RequestContext(user_id="u1", correlation_id="corr-1", causation_id="cause-1")


def _change(uow, note_id, notes):
    uow.session.execute(insert(notes).values(id=note_id, text="hello"))


def test_an_event_lands_in_the_outbox_in_the_same_commit_as_the_change(store):
    uow = store.uow(exchange="lead.events")
    with uow:
        _change(uow, "n1", store.notes)
        event = uow.emit("lead.created", {"id": "n1"}, CTX)
        uow.commit()

    assert [r["id"] for r in store.rows(store.notes)] == ["n1"]
    [row] = store.rows(store.outbox)
    assert row["event_id"] == event["event_id"]
    assert row["event_type"] == "lead.created"
    assert row["exchange"] == "lead.events"
    assert row["sent_at"] is None
    assert envelope.parse(row["payload"]) == event


def test_an_emitted_event_carries_the_actor_and_correlation_of_the_request(store):
    uow = store.uow()
    with uow:
        uow.emit("lead.created", {"id": "n1"}, CTX)
        uow.commit()

    payload = json.loads(store.rows(store.outbox)[0]["payload"])
    assert (payload["actor_id"], payload["correlation_id"], payload["causation_id"]) == \
        ("u1", "corr-1", "cause-1")


def test_nothing_lands_when_the_unit_of_work_ends_without_a_commit(store):
    uow = store.uow()
    with uow:
        _change(uow, "n1", store.notes)
        uow.emit("lead.created", {"id": "n1"}, CTX)

    assert store.rows(store.notes) == []
    assert store.rows(store.outbox) == []


def test_nothing_lands_when_the_use_case_raises_before_its_commit(store):
    uow = store.uow()
    with pytest.raises(RuntimeError):
        with uow:
            _change(uow, "n1", store.notes)
            uow.emit("lead.created", {"id": "n1"}, CTX)
            raise RuntimeError("a rule said no")

    assert store.rows(store.notes) == []
    assert store.rows(store.outbox) == []


def test_an_explicit_rollback_forgets_the_events_emitted_so_far(store):
    uow = store.uow()
    with uow:
        uow.emit("lead.created", {"id": "dropped"}, CTX)
        uow.rollback()
        uow.emit("lead.created", {"id": "kept"}, CTX)
        uow.commit()

    [row] = store.rows(store.outbox)
    assert json.loads(row["payload"])["data"] == {"id": "kept"}


def test_every_event_of_a_commit_gets_its_own_outbox_row_in_emit_order(store):
    uow = store.uow()
    with uow:
        for n in range(3):
            uow.emit("lead.updated", {"n": n}, CTX)
        uow.commit()

    assert [json.loads(r["payload"])["data"]["n"] for r in store.rows(store.outbox)] == [0, 1, 2]


def test_on_commit_gets_the_events_only_after_they_are_committed(store):
    seen = []

    def on_commit(events):
        # another connection already sees the rows: the transaction is over
        seen.append(([e["event_id"] for e in events], [r["event_id"] for r in store.rows(store.outbox)]))

    uow = store.uow(on_commit=on_commit)
    with uow:
        event = uow.emit("lead.created", {"id": "n1"}, CTX)
        assert seen == []
        uow.commit()

    assert seen == [([event["event_id"]], [event["event_id"]])]


def test_on_commit_is_not_called_without_a_commit_or_without_events(store):
    calls = []
    uow = store.uow(on_commit=calls.append)
    with uow:
        uow.emit("lead.created", {"id": "n1"}, CTX)
    with uow:
        _change(uow, "n2", store.notes)
        uow.commit()

    assert calls == []


def test_a_unit_of_work_can_be_used_again_for_the_next_transaction(store):
    uow = store.uow()
    for note_id in ("a", "b"):
        with uow:
            _change(uow, note_id, store.notes)
            uow.emit("note.added", {"id": note_id}, CTX)
            uow.commit()

    assert [r["id"] for r in store.rows(store.notes)] == ["a", "b"]
    assert len(store.rows(store.outbox)) == 2


def test_the_inbox_remembers_a_handled_event_only_once_committed(store):
    uow = store.uow()
    with uow:
        uow.mark_processed("ev1", "reporting.on_lead_event")
    with uow:
        assert not uow.already_processed("ev1", "reporting.on_lead_event")
        uow.mark_processed("ev1", "reporting.on_lead_event")
        uow.commit()
    with uow:
        assert uow.already_processed("ev1", "reporting.on_lead_event")
        assert not uow.already_processed("ev1", "assignment.on_lead_created")
        assert not uow.already_processed("ev2", "reporting.on_lead_event")


def test_marking_an_event_processed_twice_is_refused_as_already_processed_and_rolls_back(store):
    uow = store.uow()
    with uow:
        uow.mark_processed("ev1", "h")
        uow.commit()

    with pytest.raises(AlreadyProcessed):
        with uow:
            _change(uow, "n1", store.notes)
            uow.emit("lead.created", {"id": "n1"}, CTX)
            uow.mark_processed("ev1", "h")
            uow.commit()

    assert store.rows(store.notes) == []
    assert store.rows(store.outbox) == []


def _event(event_id="ev1"):
    return {"event_id": event_id, "type": "lead.created", "version": 1, "occurred_at": "x", "data": {}}


def test_handle_once_runs_the_effect_once_and_records_the_inbox_row_with_it(store):
    uow = store.uow()
    runs = []

    def effect():
        runs.append(1)
        _change(uow, f"n{len(runs)}", store.notes)

    assert handle_once(uow, _event(), "reporting.on_lead_event", effect) is True
    assert handle_once(uow, _event(), "reporting.on_lead_event", effect) is False

    assert runs == [1]
    assert [r["id"] for r in store.rows(store.notes)] == ["n1"]
    assert [(r["event_id"], r["handler"]) for r in store.rows(store.inbox)] == \
        [("ev1", "reporting.on_lead_event")]


def test_handle_once_keeps_handlers_apart_so_each_consumer_sees_the_event(store):
    uow = store.uow()
    runs = []

    handle_once(uow, _event(), "reporting.on_lead_event", lambda: runs.append("reporting"))
    handle_once(uow, _event(), "assignment.on_lead_created", lambda: runs.append("assignment"))

    assert runs == ["reporting", "assignment"]


def test_a_failed_effect_leaves_no_inbox_row_so_a_retry_runs_it_again(store):
    uow = store.uow()

    def failing():
        _change(uow, "n1", store.notes)
        raise ConnectionError("the lead service is away")

    with pytest.raises(ConnectionError):
        handle_once(uow, _event(), "h", failing)
    assert store.rows(store.inbox) == []
    assert store.rows(store.notes) == []

    assert handle_once(uow, _event(), "h", lambda: _change(uow, "n1", store.notes)) is True
    assert [r["id"] for r in store.rows(store.notes)] == ["n1"]


def test_events_emitted_by_a_handled_effect_commit_with_its_inbox_row(store):
    uow = store.uow()

    handle_once(uow, _event(), "h", lambda: uow.emit("assignment.decided", {"lead_id": "L1"}, CTX))

    assert [r["event_type"] for r in store.rows(store.outbox)] == ["assignment.decided"]
    assert len(store.rows(store.inbox)) == 1


def test_the_outbox_backlog_counts_unsent_events_and_says_since_when_P4(store):
    from crmkit.db import outbox_pending

    assert outbox_pending(store.engine, store.outbox) == {"pending": 0, "oldest": None}
    uow = store.uow()
    with uow:
        first = uow.emit("lead.created", {"id": "a"}, CTX)
        uow.emit("lead.created", {"id": "b"}, CTX)
        uow.commit()

    backlog = outbox_pending(store.engine, store.outbox)

    assert backlog["pending"] == 2
    assert backlog["oldest"].endswith("Z")
    def parsed(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert abs((parsed(backlog["oldest"]) - parsed(first["occurred_at"])).total_seconds()) < 5


def test_a_bulk_transaction_publishes_its_events_packed_and_the_rest_one_by_one(store):
    uow = store.uow()
    with uow:
        uow.pack_events()
        for n in range(3):
            uow.emit("lead.created", {"id": f"L{n}"}, CTX)
        uow.emit("lead.updated", {"id": "L0"}, CTX)
        uow.commit()
    with uow:
        uow.emit("lead.created", {"id": "L9"}, CTX)
        uow.emit("lead.created", {"id": "L8"}, CTX)
        uow.commit()  # packing was asked for the transaction before only

    payloads = [json.loads(r["payload"]) for r in store.rows(store.outbox)]
    assert [p["type"] for p in payloads] == ["lead.created.batch", "lead.updated", "lead.created", "lead.created"]
    assert [e["data"]["id"] for e in envelope.unpack(payloads[0])] == ["L0", "L1", "L2"]
    assert [r["event_type"] for r in store.rows(store.outbox)][0] == "lead.created.batch"


def test_first_times_records_many_events_at_once_and_tells_which_were_new(store):
    uow = store.uow()
    with uow:
        assert uow.first_times(["e1", "e2"], "h") == {"e1", "e2"}
        uow.commit()
    with uow:
        assert uow.first_times(["e2", "e3", "e3"], "h") == {"e3"}
        assert uow.first_times(["e1"], "other") == {"e1"}
        uow.commit()
    with uow:
        assert uow.first_times([], "h") == set()
        assert uow.first_times(["e1", "e2", "e3"], "h") == set()


def test_handle_each_once_runs_each_new_event_once_in_order_even_when_a_batch_repeats_one(store):
    from crmkit.inbox import handle_each_once

    uow, seen = store.uow(), []
    events = [{"event_id": i, "type": "t", "data": {}} for i in ("a", "b", "a", "c")]
    fresh = handle_each_once(uow, events, "h", lambda e: seen.append(e["event_id"]))
    again = handle_each_once(uow, events[:2], "h", lambda e: seen.append(e["event_id"]))

    assert seen == ["a", "b", "c"] and [e["event_id"] for e in fresh] == ["a", "b", "c"] and again == []
