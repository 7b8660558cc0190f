"""Spreadsheet import (API.md "Leads", L13): POST /leads/import and GET /imports/{job_id}.

The upload is multipart, up to 50 MiB for this endpoint alone (the app's limit stays 1 MiB).
The gateway only carries it: the lead service opens the job, takes the file in parts of
8 MiB (an RPC message stays small) and checks its header on submit; the job then runs there.
"""
import base64
import json

from flask import request
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth import require_role, rpc
from ..errors import ApiError

blp = Blueprint("imports", __name__, url_prefix="/api/v1", description="Spreadsheet import of leads (L13)")

IMPORTERS = ("admin", "marketing_director", "marketing_member", "market_manager")
MAX_FILE = 50 * 1024 * 1024
MAX_BODY = MAX_FILE + 256 * 1024  # the file, the other fields and the multipart framing
PART = 8 * 1024 * 1024
FORM_FIELDS = ("campaign_id", "pool_id", "mapping", "on_duplicate")
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel")


def _upload():
    """(file bytes, filename, options) from the multipart body, or a 4xx."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "Send the import as multipart/form-data with the CSV in the field `file`.")
    request.max_content_length = MAX_BODY
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise RequestEntityTooLarge()
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(422, "The request has invalid fields.", {"file": "Missing: the CSV file."})
    name = upload.filename or ""
    if name.lower().endswith((".xlsx", ".xls")) or upload.mimetype in XLSX_TYPES:
        raise ApiError(415, "Only CSV files are imported; save the sheet as CSV (UTF-8 or GBK).",
                       {"file": "XLSX is not supported."})
    content = upload.read(MAX_FILE + 1)
    if len(content) > MAX_FILE:
        raise RequestEntityTooLarge()
    if not content.strip():
        raise ApiError(422, "The request has invalid fields.", {"file": "The file is empty."})
    options = {key: request.form.get(key) or None for key in FORM_FIELDS}
    if options["mapping"]:
        try:
            options["mapping"] = json.loads(options["mapping"])
        except ValueError:
            raise ApiError(422, "The request has invalid fields.",
                           {"mapping": 'Not JSON: {"column header": "contact.name", ...}.'}) from None
    return content, name, options


@blp.route("/leads/import", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "campaign_id"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "CSV, UTF-8 (BOM or not) or GBK/GB18030"},
        "campaign_id": {"type": "string"}, "pool_id": {"type": "string"},
        "mapping": {"type": "string", "description": 'JSON: {"column header": "contact.name", ...}'},
        "on_duplicate": {"type": "string", "enum": ["skip", "flag", "update"]}}}}}})
@blp.response(202)
def import_leads():
    """Import leads from a CSV file (at most 50 MiB) as a job → 202 `{"job_id"}`; follow it at
    GET /imports/{job_id}.

    Roles: admin, marketing_director, marketing_member, market_manager. The leads join the campaign
    (open: 422 unknown, 409 archived) and pool, are owned by the caller, have `source: "import"`, and
    run through the campaign's assignment rule. Headers are recognised by the intake's flat names
    or Chinese ones (姓名, 职位, 邮箱, 电话, 手机, 公司, 行业, 城市, 省份, 需求, and variants such as
    联系人, 公司名称, 单位, 手机号, 电子邮件); `mapping` names the field of any other column. 413 above
    50 MiB; 415 for XLSX (not supported: save as CSV) or a body that is not multipart; 422 for an
    encoding, header or mapping that cannot be used. `on_duplicate`: `skip` (default), `flag` (store
    with `duplicate_of`) or `update` (fill the stored lead's empty fields).
    """
    require_role(*IMPORTERS)
    content, name, options = _upload()
    job_id = rpc("lead", "create_import", {**options, "filename": name})["job_id"]
    for seq, start in enumerate(range(0, len(content), PART)):
        part = base64.b64encode(content[start:start + PART]).decode("ascii")
        rpc("lead", "add_import_part", job_id, seq, part)
    rpc("lead", "submit_import", job_id)
    return {"job_id": job_id}


@blp.route("/imports/<job_id>", methods=["GET"])
def get_import(job_id):
    """An import job: `status` (queued, running, done, failed), `total`, `processed` (rows done so
    far), `imported`, `duplicates`, `errors` [{"row", "field", "message"}] (the first 1,000; all
    of them counted in `error_count`). `row` is the spreadsheet's row number, the header being 1."""
    return rpc("lead", "get_import", job_id)
