"""Spreadsheet import (L13) as a resumable job. Pure: a unit of work and a RequestContext.

1. `create_import` checks the caller and the campaign and opens a job (`receiving`);
   `add_import_part` stores the file in parts (an RPC message stays small); `submit_import`
   reads the headers (422 for a file that cannot be imported) and queues the job.
2. `run_imports` (a timer in each lead process) claims a queued job with one UPDATE, or one
   whose runner's lease ran out, and works through it in chunks. Each chunk is ONE
   transaction: its leads, their history rows, their `lead.created` events (outbox), its row
   errors, the job's counters and its checkpoint `next_row`. A crash loses the chunk in
   flight and nothing else; the next runner resumes at `next_row`. A runner that lost its
   lease finds its checkpoint UPDATE matching no row and rolls its chunk back.
Duplicates (model.dedupe_keys) are looked up among stored leads (one batched lookup per
chunk) and among the earlier rows of the chunk; earlier chunks are stored by then.
"""
import logging
import uuid
from datetime import timedelta

from crmkit.context import RequestContext
from crmkit.envelope import iso, new_id, now
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound

from . import imports
from .handlers import fetch_known_campaign
from .model import Lead, dedupe_keys

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 5  # tries at one chunk (claims that did not get past it): then the job fails, saying why
SHOWN_STATUS = {"receiving": "queued"}


def _require_importer(ctx):
    if not imports.IMPORT_ROLES & set(ctx.roles):
        raise Forbidden(f"Importing leads needs one of the roles: {', '.join(sorted(imports.IMPORT_ROLES))}.")


def _job(uow, job_id, ctx) -> dict:
    """The job, to its importer or another importing role; to anybody else it does not exist."""
    job = uow.imports.get(job_id)
    if job is None or (job["owner_id"] != ctx.user_id and not imports.IMPORT_ROLES & set(ctx.roles)):
        raise NotFound(f"Import {job_id} does not exist.", {"job_id": job_id})
    return job


def create_import(options, uow, ctx, fetch_campaign):
    """Open a job for the caller into an open campaign; the file follows in parts. → {"job_id"}."""
    _require_importer(ctx)
    options = imports.check_options(options)
    with uow:
        known = uow.campaigns.get(options["campaign_id"])
    if known is None:
        known = fetch_known_campaign(options["campaign_id"], fetch_campaign)
    known.require_open()
    moment = now()
    job = {"id": new_id(), "status": "receiving", "campaign_id": options["campaign_id"],
           "pool_id": options["pool_id"], "owner_id": ctx.user_id, "correlation_id": ctx.correlation_id,
           "options": {key: options[key] for key in ("mapping", "on_duplicate", "filename")},
           "created_at": moment, "updated_at": moment}
    with uow:
        if uow.campaigns.get(known.id) is None:
            uow.campaigns.put(known, moment)
        uow.imports.add(job)
        uow.commit()
    return {"job_id": job["id"]}


def _receiving(uow, job_id, ctx) -> dict:
    job = _job(uow, job_id, ctx)
    if job["status"] != "receiving" or job["owner_id"] != ctx.user_id:
        raise Conflict("The import has its file already.", {"job_id": job_id})
    return job


def add_import_part(job_id, seq, data: bytes, uow, ctx):
    """One part of the file, in order from 0; at most 50 MiB in all."""
    with uow:
        _receiving(uow, job_id, ctx)
        if uow.imports.size(job_id) + len(data) > imports.MAX_FILE_BYTES:
            raise Invalid("The file is larger than 50 MiB.", {"file": "Too large."})
        uow.imports.add_part(job_id, seq, data)
        uow.commit()


def submit_import(job_id, uow, ctx):
    """Read the file's header (Invalid if it cannot be imported: the job is then failed) and queue it."""
    with uow:
        job = _receiving(uow, job_id, ctx)
        content = uow.imports.content(job_id)
    try:
        sheet = imports.read_sheet(content, job["options"]["mapping"], job["options"]["filename"])
        failure = None
    except Invalid as exc:
        sheet, failure = None, exc
    with uow:
        moment = now()
        if failure is None:
            uow.imports.update(job_id, status="queued", encoding=sheet.encoding, total=sheet.total,
                               updated_at=moment)
        else:
            uow.imports.update(job_id, status="failed", failure=failure.message, updated_at=moment,
                               finished_at=moment)
        uow.commit()
    if failure is not None:
        raise failure
    return get_import(job_id, uow, ctx)


def view(job, errors) -> dict:
    """API.md: {"status", "total", "imported", "duplicates", "errors"} and what else helps."""
    return {"job_id": job["id"], "status": SHOWN_STATUS.get(job["status"], job["status"]),
            "total": job["total"], "processed": job["next_row"], "imported": job["imported"],
            "duplicates": job["duplicates"], "errors": errors, "error_count": job["error_count"],
            "campaign_id": job["campaign_id"], "pool_id": job["pool_id"], "owner_id": job["owner_id"],
            "on_duplicate": job["options"]["on_duplicate"], "filename": job["options"]["filename"],
            "encoding": job["encoding"], "failure": job["failure"], "created_at": iso(job["created_at"]),
            "finished_at": iso(job["finished_at"])}


def get_import(job_id, uow, ctx):
    with uow:
        job = _job(uow, job_id, ctx)
        return view(job, uow.imports.errors(job_id))


# -- running jobs ------------------------------------------------------------------------------------------

def run_imports(uow, pause=lambda: None, chunk_rows=imports.CHUNK_ROWS):
    """Claim and run import jobs until none is left to run; returns the ids of those finished."""
    finished = []
    while True:
        with uow:
            moment = now()
            candidates = uow.imports.runnable(moment)
        claimed = None
        for job_id in candidates:
            runner = uuid.uuid4().hex
            with uow:
                if uow.imports.claim(job_id, runner, moment, moment + LEASE):
                    uow.commit()
                    claimed = job_id
                    break
        if claimed is None:
            return finished
        if _given_up(claimed, runner, uow):
            continue
        try:
            done = run_import(claimed, runner, uow, pause, chunk_rows)
        except Exception as exc:  # left under its lease; the next claim after it tries again
            with uow:
                uow.imports.update(claimed, runner, failure=f"{type(exc).__name__}: {exc}"[:2000])
                uow.commit()
            raise
        if done:
            finished.append(claimed)


def _given_up(job_id, runner, uow) -> bool:
    """Fail a job that has tried its next chunk MAX_ATTEMPTS times (a chunk that fails every time,
    or a runner that dies on it): the rows before it stay imported, the reason is kept."""
    with uow:
        job = uow.imports.get(job_id)
    if job["attempts"] <= MAX_ATTEMPTS:
        return False
    log.error("import %s: %d attempts made no progress at data row %d; failing it", job_id, MAX_ATTEMPTS,
              job["next_row"] + 1)
    _finish(uow, job_id, runner, "failed",
            f"Stopped after {MAX_ATTEMPTS} attempts made no progress at data row {job['next_row'] + 1} "
            f"({job['failure'] or 'the runner stopped'}); the rows before it are imported.")
    return True


def run_import(job_id, runner, uow, pause=lambda: None, chunk_rows=imports.CHUNK_ROWS) -> bool:
    """Work through a claimed job from its checkpoint, a chunk per transaction. False if the
    lease was lost to another runner."""
    with uow:
        job = uow.imports.get(job_id)
        content = uow.imports.content(job_id)
    try:
        sheet = imports.read_sheet(content, job["options"]["mapping"], job["options"]["filename"])
    except Invalid as exc:  # it was read once at submit: only a changed rule set gets here
        return _finish(uow, job_id, runner, "failed", exc.message)
    ctx = RequestContext(user_id=job["owner_id"], roles=(), correlation_id=job["correlation_id"] or job_id,
                         causation_id=job_id, channel="import")
    counters = {key: job[key] for key in ("next_row", "imported", "duplicates", "error_count")}
    first_chunk = True
    while counters["next_row"] < sheet.total:
        rows = sheet.rows[counters["next_row"]:counters["next_row"] + chunk_rows]
        with uow:
            moment = now()
            done = _chunk(rows, sheet.columns, job, uow, ctx, moment)
            after = {"next_row": counters["next_row"] + len(rows),
                     "imported": counters["imported"] + done["imported"],
                     "duplicates": counters["duplicates"] + done["duplicates"],
                     "error_count": counters["error_count"] + len(done["errors"])}
            if not uow.imports.update(job_id, runner, lease_until=moment + LEASE, updated_at=moment, attempts=1,
                                      failure=None, **after):  # this claim now tries the next chunk
                log.warning("import %s: lease lost at row index %d; left to its new runner", job_id,
                            counters["next_row"])
                return False
            uow.imports.add_errors(job_id, counters["error_count"], done["errors"])
            uow.commit()
        if first_chunk:  # the tables may be new: give the planner statistics (refresh_statistics)
            first_chunk = False
            with uow:
                uow.imports.refresh_statistics()
                uow.commit()
        counters = after
        pause()
    return _finish(uow, job_id, runner, "done")


def _finish(uow, job_id, runner, status, failure=None) -> bool:
    with uow:
        moment = now()
        if not uow.imports.update(job_id, runner, status=status, failure=failure, lease_until=None,
                                  updated_at=moment, finished_at=moment):
            return False
        uow.imports.drop_parts(job_id)
        uow.commit()
    return True


def _chunk(rows, columns, job, uow, ctx, moment) -> dict:
    """One chunk's effect in the caller's transaction: → {"imported", "duplicates", "errors"}."""
    policy = job["options"]["on_duplicate"]
    errors, candidates = [], []
    for number, cells in rows:
        fields, row_errors = imports.row_fields(number, cells, columns)
        if row_errors:
            errors += row_errors
            continue
        lead = Lead.create(id=new_id(), now=moment, owner_id=job["owner_id"], campaign_id=job["campaign_id"],
                           pool_id=job["pool_id"], source="import", **fields)
        candidates.append((lead, fields, dedupe_keys(lead)))
    stored = uow.leads.find_duplicates([keys for _, _, keys in candidates])
    seen = imports.SeenKeys()
    new, fills, duplicates, new_keys = [], [], 0, {}
    for (lead, fields, keys), matches in zip(candidates, stored):
        earlier = seen.match(keys)
        if not (matches or earlier):
            new.append(lead)
            new_keys[lead.id] = keys
            seen.add(keys, lead.id)
            continue
        duplicates += 1
        if policy == "flag":
            lead.duplicate_of = sorted(set(matches) | set(earlier))
            new.append(lead)
            seen.add(keys, lead.id)
            continue
        target = (earlier or matches)[0]
        seen.add(keys, target)
        if policy == "update":
            fills.append((target, fields))
    _fill(fills, {lead.id: lead for lead in new}, uow, ctx, moment)
    for target, _ in fills:  # a lead filled in from a later row has new keys
        new_keys.pop(target, None)
    uow.pack_events()  # a chunk's lead.created events travel packed: a lead.batch per 500
    uow.imports.add_leads(new, moment, ctx, [lead.created_changes() for lead in new], new_keys)
    for lead in new:
        uow.emit("lead.created", lead.to_dict(), ctx)
    return {"imported": len(new), "duplicates": duplicates, "errors": errors}


def _fill(fills, pending, uow, ctx, moment):
    """on_duplicate=update: fill the empty fields of the lead each row duplicates (a lead of an
    earlier row of this chunk, still unsaved, or a stored one: saved, with history and
    lead.updated). A converted lead is left as it is."""
    stored_ids = sorted({target for target, _ in fills if target not in pending})
    stored = {lead.id: lead for lead in uow.leads.get_many(stored_ids)}
    changed = {}
    for target, fields in fills:
        lead = pending.get(target) or stored.get(target)
        if lead is None:
            continue
        try:
            diff = lead.patch(imports.fill_empty(lead, fields), moment)
        except (Conflict, Invalid):
            continue
        if diff and target in stored:
            changed.setdefault(target, {}).update(diff)
    for lead_id, diff in changed.items():
        lead = stored[lead_id]
        uow.leads.save(lead)
        uow.history.record(lead_id, moment, ctx, "updated", diff, "import")
        uow.emit("lead.updated", {**lead.to_dict(), "changes": diff}, ctx)
