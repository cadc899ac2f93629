"""Latency (p50/p95/p99) and requests per second of the main pages under gunicorn.

The portal is started with gunicorn (``gunicorn.conf.py``, production mode) as a subprocess on
loopback against a generated database, and so is ``bench/bare.py`` (bare Flask + Jinja, the
same rows from memory) with the same settings, so the two numbers come from the same run on the
same machine. The load generator is plain Python: one thread per simulated user, each with its
own keep-alive ``http.client`` connection (gunicorn's sync workers close it after each
response; the client then reconnects, as a browser would).

    python -m bench.load --database-url sqlite:///bench/data/bench-0.1.db --duration 10
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from .generate import BENCH_PASSWORD, BENCH_ROLES, DATA, ROOT, absolute, bench_email


@dataclass
class Result:
    label: str
    path: str
    requests: int
    errors: int
    seconds: float
    p50: float
    p95: float
    p99: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _checkpoint_key() -> str:
    """A bench-only Ed25519 key for the audit checkpoints, made once in bench/data/."""
    path = DATA / "bench-checkpoint-key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        DATA.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    return str(path)


class Server:
    """gunicorn serving ``target`` on a free loopback port (``$BENCH_PORT`` when set: on a
    shared machine each runner keeps to its own), stopped on exit."""

    def __init__(self, target: str, database_url: str, workers: int, probe: str):
        self.port = int(os.environ.get("BENCH_PORT") or free_port())
        self.target = target
        self.probe = probe
        DATA.mkdir(parents=True, exist_ok=True)
        self.log = (DATA / f"gunicorn-{target.replace(':', '-')}.log").open("w")
        env = dict(os.environ)
        env.update({
            "PORTAL_ENV": "production", "SECRET_KEY": "bench-only-" + "x" * 40,
            "DATABASE_URL": absolute(database_url), "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers), "SESSION_COOKIE_SECURE": "0",
            "LOGIN_LIMIT": "100000 per minute", "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_ALLOW_MEMORY": "1",  # limits are lifted for the load anyway
            # production mode needs the audit chain's keys (issue 19): bench-only ones
            "AUDIT_KEY": "bench-only-audit-" + "k" * 32, "CHECKPOINT_KEY_FILE": _checkpoint_key(),
        })
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and config
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "--access-logfile", "/dev/null", target],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log,
        )

    def __enter__(self) -> Server:
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.target} exited; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", self.probe)
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.target} did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _cookies(response, jar: dict[str, str]) -> None:
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]


def sign_in(port: int, email: str, password: str = BENCH_PASSWORD) -> str:
    """Sign in through the real login form; return the Cookie header to send."""
    jar: dict[str, str] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    _cookies(response, jar)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    body = urlencode({"csrf_token": token.group(1), "email": email, "password": password})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    response = conn.getresponse()
    response.read()
    _cookies(response, jar)
    if response.status != 302:
        raise RuntimeError(f"signing in as {email} answered {response.status}")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def _percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return 0.0
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def hammer(port: int, label: str, path: str, cookie: str | None, *, concurrency: int,
           duration: float, htmx: bool = False) -> Result:
    """``concurrency`` users requesting ``path`` back to back for ``duration`` seconds."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    headers = {"Cookie": cookie} if cookie else {}
    if htmx:
        headers["HX-Request"] = "true"  # only the page's results block is rendered
    start_line = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def user(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start_line.wait()
        mine = latencies[i]
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at[0]:
                break
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status not in (200, 204):  # 204: the unchanged poll
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.append((time.perf_counter() - t0) * 1000)
        conn.close()

    threads = [threading.Thread(target=user, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    stop_at[0] = began + duration
    start_line.wait()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    all_ms = sorted(ms for mine in latencies for ms in mine)
    return Result(label, path, len(all_ms), sum(errors), seconds, _percentile(all_ms, 0.50),
                  _percentile(all_ms, 0.95), _percentile(all_ms, 0.99))


def _pages(database_url: str, roles) -> list[tuple[str, str, str, bool]]:
    """(label, role, path, htmx) of every main page and partial of each role (bench.ratio's
    list), with like-for-like objects: the newest *active* deployment the role may see, its plan
    and first action, the newest *matched* request, the newest invoice it may see."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import User

    from . import ratio
    from .generate import make_app

    app = make_app(database_url)
    out = []
    with app.app_context():
        for role in roles:
            user = db.session.scalar(select(User).where(User.email == bench_email(role)))
            ids = ratio._ids(user)
            out += [(f"{label} ({role})", role, url, headers is not None)
                    for label, url, headers in ratio.pages(role, ids)]
        db.engine.dispose()
    return out


def _floor(port: int, concurrency: int, duration: float) -> Result:
    hammer(port, "bare", "/bare", None, concurrency=2, duration=1)
    return hammer(port, "bare Flask+Jinja, same 25 rows from memory", "/bare", None,
                  concurrency=concurrency, duration=duration)


def run(database_url: str, *, duration: float = 10, concurrency: int = 8,
        workers: int = 4, log=print, roles=BENCH_ROLES) -> list[Result]:
    """Every page under gunicorn, with the floor measured before and after the pages in the
    same run (its mean is what each page's ratio is taken against, ``markdown``)."""
    pages = _pages(database_url, roles)
    results = []
    with Server("bench.bare:app", database_url, workers, "/bare") as bare:
        results.append(_floor(bare.port, concurrency, duration))
        log(f"  floor before: {results[-1].rps:7.1f} req/s")
    with Server("wsgi:app", database_url, workers, "/login") as portal:
        cookies = {role: sign_in(portal.port, bench_email(role))
                   for role in {role for _l, role, _p, _h in pages}}
        for label, role, path, htmx in pages:
            cookie = cookies[role]
            hammer(portal.port, label, path, cookie, concurrency=2, duration=1)  # warm up
            result = hammer(portal.port, label, path, cookie, concurrency=concurrency,
                            duration=duration, htmx=htmx)
            log(f"  {label:<44} {result.rps:7.1f} req/s  p50 {result.p50:6.1f} ms  "
                f"p95 {result.p95:6.1f} ms  errors {result.errors}")
            results.append(result)
    with Server("bench.bare:app", database_url, workers, "/bare") as bare:
        results.append(_floor(bare.port, concurrency, duration))
        log(f"  floor after: {results[-1].rps:7.1f} req/s")
    return results


def markdown(results: list[Result]) -> str:
    """The floor is the first and last result; each page's ratio is its requests/s over the
    floor's mean."""
    floors = [r for r in results if r.path == "/bare"]
    floor = sum(r.rps for r in floors) / len(floors) if floors else 0.0
    lines = ["| Page | Requests/s | Ratio to floor | p50 ms | p95 ms | p99 ms | Requests "
             "| Errors |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in enumerate(results):
        label = r.label if r.path != "/bare" else (
            f"{r.label} ({'before' if n == 0 else 'after'})")
        ratio = f"{r.rps / floor:.2f}" if floor else "-"
        lines.append(f"| {label} | {r.rps:.1f} | {ratio} | {r.p50:.1f} | {r.p95:.1f} "
                     f"| {r.p99:.1f} | {r.requests} | {r.errors} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=float, default=10, help="seconds per page")
    parser.add_argument("--concurrency", type=int, default=8, help="simulated users")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args(argv)
    results = run(args.database_url, duration=args.duration, concurrency=args.concurrency,
                  workers=args.workers)
    print(markdown(results))


if __name__ == "__main__":
    Path(DATA).mkdir(parents=True, exist_ok=True)
    main()
