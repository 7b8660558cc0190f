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
        new = uow.first_times([event["event_id"] for event in events], handler)
        fresh, seen = [], set()
        for event in events:  # in order, each once
            if event["event_id"] in new and event["event_id"] not in seen:
                seen.add(event["event_id"])
                fresh.append(event)
        for event in fresh:
            effect(event)
        if finish is not None:
            finish()
        uow.commit()
    return fresh
