"""Run the whole system locally: four services (N replicas each) and the gateway.

`python -m crmkit.supervise` is what `make run` calls. Tests and benchmarks use `Stack`
to start real processes against the real RabbitMQ and databases, and to kill or
restart one of them.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SERVICES = ("campaign", "lead", "assignment", "reporting")


class Stack:
    def __init__(self, env=None, replicas=None, port=None, log_dir=None, gateway_threads=16,
                 gateway_workers=1):
        self.env = {**os.environ, **(env or {})}
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.replicas = {name: 1 for name in SERVICES}
        self.replicas.update(replicas or {})
        self.port = int(port or self.env.get("CRM_GATEWAY_PORT", "8000"))
        self.log_dir = Path(log_dir or Path(self.env.get("CRM_VAR_DIR", "var")) / "log")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.gateway_threads = gateway_threads
        self.gateway_workers = gateway_workers
        self.procs = {}  # (name, index) -> Popen

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def migrate(self):
        subprocess.run([sys.executable, "-m", "crmkit.migrate_all"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def _spawn(self, name, index, extra_env=None):
        env = {**self.env, **(extra_env or {})}
        if name == "gateway":
            cmd = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", str(self.gateway_threads),
                   "-w", str(self.gateway_workers), "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
                   "--log-level", "warning", "gateway.wsgi:app"]
        else:
            cmd = [sys.executable, "-m", "crmkit.run", name]
        log = open(self.log_dir / f"{name}-{index}.log", "ab")
        self.procs[(name, index)] = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                     start_new_session=True)
        log.close()

    def start(self, wait=True, timeout=60):
        self.migrate()
        for name in SERVICES:
            for index in range(self.replicas[name]):
                self._spawn(name, index)
        self._spawn("gateway", 0)
        if wait:
            self.wait_healthy(timeout)
        return self

    def start_service(self, name, index=0, extra_env=None):
        self._spawn(name, index, extra_env)

    def health(self):
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=5) as response:
                return json.loads(response.read())
        except Exception:  # noqa: BLE001 - not up yet
            return None

    def wait_healthy(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for key, proc in self.procs.items():
                if proc.poll() is not None and key[0] == "gateway":
                    raise RuntimeError(f"{key} exited with {proc.returncode}; see {self.log_dir}")
            health = self.health()
            if health and health.get("status") == "ok":
                return health
            time.sleep(0.3)
        raise TimeoutError(f"the system was not healthy within {timeout}s: {self.health()}")

    def stop_process(self, name, index=0, sig=signal.SIGTERM, timeout=15):
        proc = self.procs.pop((name, index), None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def kill(self, name, index=0):
        self.stop_process(name, index, signal.SIGKILL)

    def stop(self, timeout=15):
        """SIGTERM the gateway, then every service at once; SIGKILL what outlives the timeout."""
        for group in (["gateway"], list(SERVICES)):
            procs = [(key, proc) for key, proc in self.procs.items() if key[0] in group]
            for _key, proc in procs:
                if proc.poll() is None:
                    try:
                        os.killpg(proc.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            deadline = time.monotonic() + timeout
            for key, proc in procs:
                try:
                    proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                self.procs.pop(key, None)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    replicas = int(os.environ.get("CRM_REPLICAS", "1"))
    stack = Stack(replicas={name: replicas for name in SERVICES})
    print(f"starting campaign, lead, assignment, reporting (x{replicas}) and the gateway "
          f"against {stack.env.get('AMQP_URI', 'amqp://guest:guest@localhost:5672/')} ...", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        stack.start(timeout=90)
        token = stack.env.get("CRM_ADMIN_TOKEN", "dev-admin-token")
        print(f"ready: {stack.url}/api/v1  (docs {stack.url}/api/v1/docs)\n"
              f"admin token: {token}   logs: {stack.log_dir}/   stop with Ctrl-C", flush=True)
        while not stopping:
            for key, proc in list(stack.procs.items()):
                if proc.poll() is not None:
                    print(f"{key[0]}[{key[1]}] exited ({proc.returncode}); restarting", flush=True)
                    stack.start_service(*key)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping ...", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
