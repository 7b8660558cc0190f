"""Import a CSV file of leads from the command line (L13), with a progress bar:

    python -m lead.import_file leads.csv --campaign-id C1 [--pool-id P1] [--on-duplicate skip|flag|update]
        [--mapping '{"客户": "company.name"}'] [--url http://127.0.0.1:8000] [--token $CRM_TOKEN]

It does what POST /api/v1/leads/import does, through the gateway (same roles, checks and job),
then follows GET /api/v1/imports/{job_id} until the job is over and prints its row errors.
Exit status: 0 done, 1 failed or refused.
"""
import argparse
import os
import sys
import time

import requests


def bar(job, width=40) -> str:
    total, done = job.get("total") or 0, job.get("processed") or 0
    filled = int(width * done / total) if total else 0
    return (f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows  imported {job.get('imported', 0)}"
            f"  duplicates {job.get('duplicates', 0)}  errors {job.get('error_count', 0)}  {job.get('status')}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--campaign-id", required=True)
    parser.add_argument("--pool-id")
    parser.add_argument("--mapping", help='JSON: {"column header": "contact.name", ...}')
    parser.add_argument("--on-duplicate", choices=["skip", "flag", "update"], default="skip")
    parser.add_argument("--url", default=os.environ.get("CRM_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("CRM_TOKEN", "dev-admin-token"))
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)

    headers = {"Authorization": f"Bearer {args.token}"}
    base = args.url.rstrip("/") + "/api/v1"
    fields = {"campaign_id": args.campaign_id, "pool_id": args.pool_id, "mapping": args.mapping,
              "on_duplicate": args.on_duplicate}
    with open(args.file, "rb") as handle:
        response = requests.post(f"{base}/leads/import", headers=headers, timeout=300,
                                 data={k: v for k, v in fields.items() if v},
                                 files={"file": (os.path.basename(args.file), handle, "text/csv")})
    if response.status_code != 202:
        print(f"refused ({response.status_code}): {response.text}", file=sys.stderr)
        return 1
    job_url = f"{base}/imports/{response.json()['job_id']}"
    while True:
        job = requests.get(job_url, headers=headers, timeout=30).json()
        sys.stdout.write(bar(job))
        sys.stdout.flush()
        if job.get("status") in ("done", "failed"):
            break
        time.sleep(args.interval)
    print()
    for error in job.get("errors", []):
        print(f"row {error['row']}: {error['field']}: {error['message']}")
    if job.get("error_count", 0) > len(job.get("errors", [])):
        print(f"... {job['error_count'] - len(job['errors'])} more errors")
    if job["status"] == "failed":
        print(f"failed: {job.get('failure')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
