"""The lead service's import entrypoints (L13, mixed into LeadService): thin translators, and the
timer that runs queued import jobs in every lead process (one runner per job: imports_handlers)."""
import base64
import binascii

import eventlet
from nameko.timer import timer

from crmkit.errors import EXPECTED, Invalid
from crmkit.glue import rpc

from . import imports_handlers


class ImportEntrypoints:
    """POST /leads/import in three calls (open, parts, submit) and GET /imports/{id}. Uses the
    service's `storage`, `ctx` and `campaign_rpc`."""

    @rpc(expected_exceptions=EXPECTED)
    def create_import(self, options):
        """L13: {"campaign_id", "pool_id"?, "mapping"?, "on_duplicate"?, "filename"?} → {"job_id"}.
        Raises Forbidden (role), Invalid, Conflict (archived campaign)."""
        return imports_handlers.create_import(options or {}, self.storage, self.ctx,
                                              self.campaign_rpc.describe_campaign)

    @rpc(expected_exceptions=EXPECTED)
    def add_import_part(self, job_id, seq, data):
        """L13: part `seq` (from 0) of the file, base64. Raises NotFound, Conflict, Invalid (> 50 MiB)."""
        try:
            raw = base64.b64decode(data or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise Invalid("A file part is base64 text.", {"data": "Not base64."}) from None
        imports_handlers.add_import_part(job_id, int(seq), raw, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def submit_import(self, job_id):
        """L13: the file is complete: check its header and queue the job. Raises NotFound, Conflict,
        Invalid (encoding, headers, mapping: the job is failed then)."""
        return imports_handlers.submit_import(job_id, self.storage, self.ctx)

    @rpc(expected_exceptions=EXPECTED)
    def get_import(self, job_id):
        """L13: status, totals, row errors. Raises NotFound."""
        return imports_handlers.get_import(job_id, self.storage, self.ctx)

    @timer(interval=0.25)  # a submitted job starts within a quarter second; a tick that finds none is one SELECT
    def run_imports(self):
        """Run queued import jobs (and resume those whose runner died), chunk by chunk."""
        imports_handlers.run_imports(self.storage, pause=lambda: eventlet.sleep(0))
