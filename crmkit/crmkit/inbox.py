"""Handle an event at most once: the inbox row commits with the effect."""
from .db import AlreadyProcessed


def handle_once(uow, event, handler, effect):
    """Run `effect()` inside `uow` unless (event_id, handler) was handled; return True if it ran.

    The inbox row is inserted first: a repeat fails on its primary key at once
    (AlreadyProcessed) without a separate look-up, and its effect never runs; a
    concurrent duplicate that gets past it fails at commit and is rolled back.
    """
    with uow:
        try:
            uow.mark_processed(event["event_id"], handler)
        except AlreadyProcessed:
            return False
        effect()
        uow.commit()
    return True


def handle_each_once(uow, events, handler, effect, finish=None, pack=False):
    """Batch form: one transaction; `effect(event)` runs for each event not handled before,
    then `finish()` (say, to write what the effects added up). Returns the new events.
    `pack`: the events the effects emit are published packed (SqlUnitOfWork.pack_events)."""
    with uow:
        if pack:
            uow.pack_events()
        fresh = new_in_order(events, uow.first_times([event["event_id"] for event in events], handler))
        for event in fresh:
            effect(event)
        if finish is not None:
            finish()
        uow.commit()
    return fresh


def new_in_order(events, new_ids) -> list:
    """The events whose ids are in `new_ids` (those an inbox insert found new), in order, each once
    (a batch may hold a repeat of an event)."""
    fresh, left = [], set(new_ids)
    for event in events:
        if event["event_id"] in left:
            left.discard(event["event_id"])
            fresh.append(event)
    return fresh
