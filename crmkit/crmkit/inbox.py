"""Handle an event at most once: the inbox row commits with the effect."""


def handle_once(uow, event, handler, effect):
    """Run `effect()` inside `uow` unless (event_id, handler) was handled; return True if it ran.

    A concurrent duplicate that slips past the check fails the inbox's primary key at
    commit (`AlreadyProcessed`), which rolls its effect back; consumers ack it.
    """
    with uow:
        if uow.already_processed(event["event_id"], handler):
            return False
        effect()
        uow.mark_processed(event["event_id"], handler)
        uow.commit()
    return True
