#!/usr/bin/env python3
"""deploy/local/fleet.py - a fleet of `enhance serve` replicas behind HAProxy, on loopback.

  python3 deploy/local/fleet.py up [--replicas 3]     a fleet a person can use; commands on stdin
  python3 deploy/local/fleet.py test                  the fleet test (CTest deploy.fleet)

The replicas listen on free loopback ports (--port 0 --port-file); HAProxy (deploy/local/
haproxy.cfg) health-checks their /readyz and retries the 503 of a draining replica. A
replica is added the way Kubernetes adds an endpoint: started, ready, then its slot in the
balancer is given its address and enabled through HAProxy's runtime API.

`test` drives bounded mixed load (bench/serve/loadgen --plan: several image sizes and
operations, each answer's status and pixel size checked) through the balancer while it
  1. measures the steady fleet (3 replicas),
  2. restarts every replica in turn, surging (replacement ready, then SIGTERM to the old
     one, which must exit 0 after draining): maxSurge 1, maxUnavailable 0,
  3. kills one replica with SIGKILL (the balancer must take it out, the others absorb),
and then checks the autoscaling signal: the per-pod queue depth and queue time the HPA
scales on, at a low and a high offered load (open loop) on 1 replica, then at the high load
on 2 and 3 replicas. It prints the figures (markdown) and exits 1 on any lost or wrong
request, a replica that did not exit 0 after SIGTERM, or a signal that does not move.
Exit 77 (skip) without haproxy or the realesrgan-x4fast model.
"""
import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SLOTS = 6  # server slots in haproxy.cfg
MODEL = "realesrgan-x4fast"


def log(*a):
    print(*a, flush=True)


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when this process dies (a CTest timeout kills only
    the test's own process; replicas and the balancer must not outlive it)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# ---- Prometheus text ------------------------------------------------------------------
def parse_metrics(text):
    """{name: [(labels dict, value)]} and {name: type} from Prometheus exposition text."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(None, 3)
            types[name] = typ.strip()
            continue
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, labels = head, {}
        if "{" in head:
            name, rest = head.split("{", 1)
            for part in rest.rstrip("}").split(","):
                if part:
                    k, _, v = part.partition("=")
                    labels[k] = v.strip('"')
        samples.setdefault(name, []).append((labels, float(value)))
    return samples, types


def metric_sum(samples, name):
    return sum(v for _, v in samples.get(name, []))


def http_get(port, path, timeout=2.0):
    """(status, body) of GET http://127.0.0.1:port/path; (0, '') when nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body.decode("utf-8", "replace")
    except (OSError, ValueError, IndexError):
        return 0, ""


# ---- replicas and the balancer ----------------------------------------------------------
class Replica:
    def __init__(self, fleet, name, args):
        self.name = name
        self.dir = os.path.join(fleet.work, name)
        os.makedirs(self.dir, exist_ok=True)
        portfile = os.path.join(self.dir, "port")
        if os.path.exists(portfile):
            os.unlink(portfile)
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        cmd = [fleet.enhance, "serve", "--host", "127.0.0.1", "--port", "0", "--port-file", portfile,
               "--models-config", fleet.config, "--log-level", "info"] + args
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.port, self.slot, self.exit = None, None, None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({self.proc.returncode}): see {self.log.name}")
            if self.port is None and os.path.exists(portfile) and os.path.getsize(portfile):
                self.port = int(open(portfile).read())
            if self.port and http_get(self.port, "/readyz")[0] == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{name} not ready in 120 s: see {self.log.name}")

    def metrics(self):
        st, body = http_get(self.port, "/metrics")
        return parse_metrics(body)[0] if st == 200 else {}


class Fleet:
    def __init__(self, enhance, config, work, replica_args, lb_port=0):
        self.enhance, self.config, self.work = enhance, config, work
        self.replica_args = replica_args
        self.replicas = []  # in the balancer
        self.slots = [None] * SLOTS
        self.counter = 0
        self.lb_port = lb_port or free_port()
        env = dict(os.environ, ENH_LB_PORT=str(self.lb_port), ENH_LB_DIR=work)
        self.lb_log = open(os.path.join(work, "haproxy.log"), "w")
        self.lb = subprocess.Popen(["haproxy", "-db", "-f", os.path.join(HERE, "haproxy.cfg")], env=env,
                                   stdout=self.lb_log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        sock = os.path.join(work, "admin.sock")
        for _ in range(100):
            if os.path.exists(sock) and self.lb_cmd("show info"):
                return
            if self.lb.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"haproxy did not start: see {self.lb_log.name}")

    def lb_cmd(self, cmd):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(os.path.join(self.work, "admin.sock"))
                s.sendall((cmd + "\n").encode())
                out = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        return out.decode()
                    out += chunk
        except OSError:
            return ""

    def lb_stat(self):
        """{slot name: row dict} of the backend's servers (status, retries, redispatches...)."""
        lines = self.lb_cmd("show stat").splitlines()
        if not lines:
            return {}
        keys = lines[0].lstrip("# ").split(",")
        rows = {}
        for line in lines[1:]:
            row = dict(zip(keys, line.split(",")))
            if row.get("pxname") == "enhance":  # the frontend, the backend and its slots
                rows[row["svname"]] = row
        return rows

    def add(self):
        """Start a replica, wait for its /readyz, give it a free slot and wait until HAProxy's
        own health check has it UP."""
        self.counter += 1
        r = Replica(self, f"r{self.counter}", self.replica_args)
        i = self.slots.index(None)
        self.slots[i], r.slot = r, f"s{i + 1}"
        self.lb_cmd(f"set server enhance/{r.slot} addr 127.0.0.1 port {r.port}")
        self.lb_cmd(f"enable server enhance/{r.slot}")
        self.wait_state(r.slot, "UP")
        self.replicas.append(r)
        return r

    def wait_state(self, slot, want, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.lb_stat().get(slot, {}).get("status", "")
            if st.startswith(want):
                return
            time.sleep(0.05)
        raise RuntimeError(f"haproxy: {slot} not {want} after {timeout} s")

    def _release(self, r):
        self.lb_cmd(f"disable server enhance/{r.slot}")
        self.slots[int(r.slot[1:]) - 1] = None
        self.replicas.remove(r)

    def stop(self, r, timeout=60):
        """SIGTERM (the replica drains: /readyz 503, in-flight requests finish), then its slot
        is freed. Returns the exit status."""
        r.proc.send_signal(signal.SIGTERM)
        try:
            r.exit = r.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            r.proc.kill()
            r.exit = r.proc.wait()
        self._release(r)
        return r.exit

    def kill(self, r):
        r.proc.kill()
        r.exit = r.proc.wait()
        return r

    def forget(self, r):
        """A killed replica: wait until the balancer's health check marks it DOWN, then free the slot."""
        t0 = time.monotonic()
        self.wait_state(r.slot, "DOWN")
        t = time.monotonic() - t0
        self._release(r)
        return t

    def close(self):
        for r in list(self.replicas):
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()
        self.replicas = []
        if self.lb.poll() is None:
            self.lb.terminate()
            self.lb.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- inputs and load ---------------------------------------------------------------------
def make_image(path, w, h, seed):
    """A textured colour test image (blurred noise per band) written with the vips CLI."""
    base = path + ".v"
    bands = []
    for b in range(3):
        n, g, u = f"{base}{b}n.v", f"{base}{b}g.v", f"{base}{b}.v"
        subprocess.run(["vips", "gaussnoise", n, str(w), str(h), "--mean", str(100 + 20 * b), "--sigma", "70",
                        "--seed", str(seed * 3 + b)], check=True)
        subprocess.run(["vips", "gaussblur", n, g, "1.5"], check=True)
        subprocess.run(["vips", "cast", g, u, "uchar"], check=True)
        bands.append(u)
    subprocess.run(["vips", "bandjoin", " ".join(bands), base], check=True)
    subprocess.run(["vips", "copy", base, path], check=True)
    for f in os.listdir(os.path.dirname(path)):
        if f.endswith(".v"):
            os.unlink(os.path.join(os.path.dirname(path), f))


# Mixed plan: model upscales of small images, resample, resize, pad, sharpen, an invalid key.
# WEIGHT IMAGE CONTENT-TYPE QUERY STATUS [W H]  (bench/serve/loadgen_plan.h)
MIXED_PLAN = """\
3 in64x48.png image/png upscale=photo&scale=4&format=png 200 256 192
2 in64x48.png image/png upscale=photo&scale=2&format=webp 200 128 96
1 in128.jpg image/jpeg upscale=photo&scale=2&format=jpeg 200 256 256
3 in640x480.jpg image/jpeg width=320&format=webp 200 320 240
2 in640x480.jpg image/jpeg upscale=resample&scale=2&format=jpeg 200 1280 960
2 in128.jpg image/jpeg fit=pad&width=300&height=200&format=png 200 300 200
1 in128.jpg image/jpeg sharpen=0.5&format=webp&lossless=true 200 128 128
1 in640x480.jpg image/jpeg sclae=2 400
"""
# The autoscaling signal: model requests only (the queue the HPA watches is the model's), big
# enough that the network's compute (bounded by --cores) dominates decoding and encoding.
MODEL_PLAN = "1 in128.jpg image/jpeg upscale=photo&scale=4&format=jpeg 200 512 512\n"


def write_inputs(work):
    for name, w, h, seed in (("in64x48.png", 64, 48, 1), ("in128.jpg", 128, 128, 2), ("in640x480.jpg", 640, 480, 3)):
        make_image(os.path.join(work, name), w, h, seed)
    for name, text in (("mixed.plan", MIXED_PLAN), ("model.plan", MODEL_PLAN)):
        with open(os.path.join(work, name), "w") as f:
            f.write(text)


class Load:
    """bench/serve/loadgen in the background; stop() sends SIGTERM (in-flight requests finish)."""

    def __init__(self, loadgen, port, plan, csv, concurrency, extra=()):
        self.csv = csv
        self.out = open(csv + ".out", "w")
        self.proc = subprocess.Popen([loadgen, "--url", f"http://127.0.0.1:{port}", "--plan", plan,
                                      "--concurrency", str(concurrency), "--csv", csv] + list(extra),
                                     stdout=self.out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait()
        self.out.close()
        return rc, read_csv(self.csv)

    def wait(self):
        rc = self.proc.wait()
        self.out.close()
        return rc, read_csv(self.csv)


def read_csv(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            s, e, k, st, res = line.strip().split(",")
            rows.append((float(s), float(e), int(k), int(st), res))
    return rows


def pct(v, p):
    if not v:
        return 0.0
    v = sorted(v)
    i = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[i]


def phase_row(name, rows, t0, t1):
    """Requests that started in [t0, t1): count, failures, p50/p99 of the successes (ms)."""
    sel = [r for r in rows if t0 <= r[0] < t1]
    ok = [r[1] - r[0] for r in sel if r[4] == "ok"]
    bad = [r for r in sel if r[4] != "ok"]
    return (f"| {name} | {t1 - t0:.1f} | {len(sel)} | {len(bad)} | {pct(ok, 50) * 1000:.0f} | "
            f"{pct(ok, 99) * 1000:.0f} |"), len(bad)


# ---- the test -----------------------------------------------------------------------------
def scale_window(fleet, loadgen, work, rate, seconds, label):
    """Open-loop model load at `rate` req/s for `seconds`; samples every replica's /metrics.
    Returns (per-pod queue depth averaged over the samples, mean queue seconds, answers/s, shed)."""
    before = {r.name: r.metrics() for r in fleet.replicas}
    csv = os.path.join(work, f"scale-{label}.csv")
    load = Load(loadgen, fleet.lb_port, os.path.join(work, "model.plan"), csv, 48,
                ["--rate", f"{rate:.2f}", "--duration", str(seconds), "--shed-ok"])
    t0 = time.monotonic()
    depths = []
    while load.proc.poll() is None:
        if time.monotonic() - t0 > seconds * 0.3:  # past the ramp
            per_pod = [metric_sum(r.metrics(), "enhance_queue_depth") for r in fleet.replicas]
            depths.append(sum(per_pod) / len(per_pod))
        time.sleep(0.2)
    rc, rows = load.wait()
    after = {r.name: r.metrics() for r in fleet.replicas}
    qs = sum(metric_sum(after[n], "enhance_queue_duration_seconds_sum") -
             metric_sum(before[n], "enhance_queue_duration_seconds_sum") for n in after)
    qn = sum(metric_sum(after[n], "enhance_queue_duration_seconds_count") -
             metric_sum(before[n], "enhance_queue_duration_seconds_count") for n in after)
    ok = sum(1 for r in rows if r[4] == "ok")
    shed = sum(1 for r in rows if r[4] == "shed")
    bad = sum(1 for r in rows if r[4] not in ("ok", "shed"))
    span = max(r[1] for r in rows) - min(r[0] for r in rows) if rows else 1
    return (sum(depths) / max(1, len(depths)), qs / max(1, qn), ok / span, shed, bad + (rc != 0 and bad == 0))


def hpa_targets():
    """[(metric, averageValue)] of deploy/k8s/hpa.yaml (read with a regex: no YAML module needed)."""
    text = open(os.path.join(ROOT, "deploy", "k8s", "hpa.yaml")).read()
    names = re.findall(r"metric:\s*{name:\s*([a-z_]+)}", text)
    values = re.findall(r"averageValue:\s*\"?([0-9.]+)", text)
    return list(zip(names, (float(v) for v in values)))


def hpa_desired(n, values, targets):
    """The HPA's rule: desired = ceil(n * metric / target), the largest over the metrics,
    no change within the 10% tolerance."""
    ratio = max(values[m] / t for m, t in targets)
    return n if abs(ratio - 1) <= 0.1 else max(1, math.ceil(n * ratio))


def run_test(a):
    work = a.work or tempfile.mkdtemp(prefix="enhance-fleet-")
    os.makedirs(work, exist_ok=True)
    write_inputs(work)
    cfg = os.path.join(work, "models.json")
    with open(cfg, "w") as f:
        json.dump({"models_dir": a.models_dir,
                   "defaults": {"max_batch": 4, "max_queue_delay_ms": 2, "max_queue": 32,
                                "default_deadline_ms": 120000},
                   "models": [{"name": MODEL, "purpose": "photo"}]}, f)
    rargs = ["--cores", str(a.cores), "--drain-timeout", "30"]
    fleet = Fleet(a.enhance, cfg, work, rargs)
    failures = []
    try:
        t = time.monotonic()
        for _ in range(a.replicas):
            fleet.add()
        log(f"# {a.replicas} replicas ready behind haproxy (127.0.0.1:{fleet.lb_port}) in "
            f"{time.monotonic() - t:.1f} s; each: enhance serve {' '.join(rargs)}; {os.cpu_count()} CPUs")
        # -- 1..3: mixed load, steady / rolling restart / kill -9
        load = Load(a.loadgen, fleet.lb_port, os.path.join(work, "mixed.plan"), os.path.join(work, "mixed.csv"),
                    a.clients, ["--requests", str(a.max_requests)])
        t_start = time.monotonic()
        time.sleep(a.steady)
        t_roll = time.monotonic()
        exits = []
        for old in list(fleet.replicas):
            fleet.add()                       # maxSurge 1: the replacement is ready first
            exits.append(fleet.stop(old))     # maxUnavailable 0: then the old one drains
        t_roll_end = time.monotonic()
        time.sleep(a.steady / 2)
        victim = fleet.replicas[0]
        t_kill = time.monotonic()
        fleet.kill(victim)
        t_down = fleet.forget(victim)
        time.sleep(a.steady / 2)
        t_kill_end = time.monotonic()
        rc, rows = load.stop()
        t_end = time.monotonic()
        lbs = fleet.lb_stat()
        stat = lbs.get("BACKEND", {})
        srv_503 = 0  # the replicas' access logs: 503 answers while draining
        for d in os.listdir(work):
            lp = os.path.join(work, d, "server.log")
            if os.path.isfile(lp):
                srv_503 += sum(1 for line in open(lp) if "POST /v1/enhance 503 " in line)
        cli_5xx = int(lbs.get("FRONTEND", {}).get("hrsp_5xx") or 0)
        log(f"\n## Mixed load through the balancer ({a.clients} clients, closed loop; plan: {work}/mixed.plan)\n")
        log("| phase | s | requests | lost or wrong | p50 ms | p99 ms |")
        log("|---|---|---|---|---|---|")
        lost = 0
        for name, p0, p1 in (("steady, 3 replicas", t_start, t_roll),
                             ("rolling restart (surge 1, unavailable 0)", t_roll, t_roll_end),
                             ("after the restart", t_roll_end, t_kill),
                             ("kill -9 of one replica, 2 left", t_kill, t_kill_end),
                             ("whole run", t_start, t_end + 1)):
            line, bad = phase_row(name, rows, p0, p1)
            log(line)
            if name.startswith("whole"):
                lost = bad
        inflight_at_kill = sum(1 for r in rows if r[0] < t_kill < r[1])
        lost_kill = [r for r in rows if r[4] != "ok" and t_kill <= r[1]]
        log(f"\nrequests: {len(rows)}; lost or wrong: {lost}; replicas' exit status after SIGTERM: {exits}; "
            f"haproxy retries {stat.get('wretr', '?')}, redispatches {stat.get('wredis', '?')}")
        log(f"5xx: the replicas answered {srv_503} requests 503 + Retry-After while draining (their access "
            f"logs); the balancer retried them on another replica: the clients got {cli_5xx}")
        log(f"kill -9: {inflight_at_kill} requests were in flight in the fleet, {len(lost_kill)} lost; "
            f"haproxy marked the replica DOWN {t_down:.2f} s after the kill")
        if rc != 0 or any(r[4] != "ok" for r in rows if not (t_kill <= r[1] and r[0] <= t_kill)):
            failures.append(f"{sum(1 for r in rows if r[4] != 'ok')} requests lost or wrong (loadgen exit {rc}): "
                            f"see {work}/mixed.csv.out")
        if len(lost_kill) > inflight_at_kill:
            failures.append("kill -9 lost more than the requests in flight")
        if any(e != 0 for e in exits):
            failures.append(f"a replica did not exit 0 after SIGTERM: {exits}")
        if cli_5xx > len(lost_kill):  # only a request killed mid-answer may end as a 502
            failures.append(f"the clients got {cli_5xx} 5xx answers")
        if len(rows) < 50:
            failures.append(f"only {len(rows)} requests: the load did not run")
        # -- 4: the autoscaling signal, at the same offered load on 1, 2, 3 replicas
        while len(fleet.replicas) > 1:
            fleet.stop(fleet.replicas[-1])
        cal = Load(a.loadgen, fleet.lb_port, os.path.join(work, "model.plan"), os.path.join(work, "cal.csv"),
                   8, ["--requests", "24"])
        _, crow = cal.wait()
        mu = len(crow) / (max(r[1] for r in crow) - min(r[0] for r in crow))
        high, low = a.overload * mu, 0.4 * mu
        log(f"\n## Autoscaling signal (open loop, {MODEL} x4 of a 128x128 JPEG; one replica's capacity "
            f"measured {mu:.1f} req/s)\n")
        targets = hpa_targets()
        log("| replicas | offered req/s | answered req/s | shed (429) | queue depth per pod | mean queue s | "
            "HPA's desired replicas |")
        log("|---|---|---|---|---|---|---|")
        res = {}
        for n, rate in ((1, low), (1, high), (2, high), (3, high)):
            while len(fleet.replicas) < n:
                fleet.add()
            d, q, thr, shed, bad = scale_window(fleet, a.loadgen, work, rate, a.window, f"{n}-{rate:.0f}")
            want = hpa_desired(n, {"enhance_queue_depth": d, "enhance_queue_seconds_avg": q}, targets)
            res[(n, rate)] = (d, q, want)
            log(f"| {n} | {rate:.1f} | {thr:.1f} | {shed} | {d:.2f} | {q:.3f} | {want} |")
            if bad:
                failures.append(f"{bad} wrong answers in the scaling window {n} replicas {rate:.1f} req/s")
        d_low, q_low, want_low = res[(1, low)]
        d1, q1, want1 = res[(1, high)]
        d2, q2, _ = res[(2, high)]
        d3, q3, _ = res[(3, high)]
        if want_low != 1 or want1 < 2:
            failures.append(f"the HPA's rule on these signals ({targets}) would not scale 1 replica to 2 at "
                            f"{a.overload}x its capacity (desired {want1}) or would at 0.4x (desired {want_low})")
        if not (d1 > d_low and q1 > q_low):
            failures.append("queue depth/time did not rise with the offered load")
        if not (d2 < d1 and q2 < q1):
            failures.append("queue depth/time did not fall when a second replica was added")
        if not (d3 < d1):
            failures.append("queue depth did not fall with 3 replicas")
        log(f"\nHPA targets (deploy/k8s/hpa.yaml): {', '.join(f'{m} {t:g}' for m, t in targets)} per pod; "
            "desired = ceil(replicas x metric / target), the largest, 10% tolerance")
        log(f"machine: {os.cpu_count()} CPUs shared by every replica, haproxy and the load generator "
            f"(replicas beyond the CPU count add no capacity, only split the queue)")
    finally:
        fleet.close()
    for f in failures:
        log("FAIL: " + f)
    log(f"# fleet test: {'PASS' if not failures else 'FAIL'} (work folder {work})")
    if not failures and not a.work and not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


# ---- up: a fleet for a person ---------------------------------------------------------------
def run_up(a):
    work = a.work or tempfile.mkdtemp(prefix="enhance-fleet-")
    os.makedirs(work, exist_ok=True)
    rargs = ["--cores", str(a.cores), "--drain-timeout", "30"] + a.serve_args
    cfg = a.models_config
    if not cfg:  # deploy/models.json (the image's), with the models installed here
        c = json.load(open(os.path.join(ROOT, "deploy", "models.json")))
        c["models_dir"] = a.models_dir
        c["models"] = [m for m in c["models"] if os.path.exists(os.path.join(a.models_dir, m["name"] + ".param"))]
        cfg = os.path.join(work, "models.json")
        with open(cfg, "w") as f:
            json.dump(c, f)
    fleet = Fleet(a.enhance, cfg, work, rargs, a.port)
    try:
        for _ in range(a.replicas):
            fleet.add()
        log(f"fleet: http://127.0.0.1:{fleet.lb_port}  ({a.replicas} replicas; logs in {work})")
        log("commands: status | add | stop | roll | kill | quit")
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "status":
                for slot, row in fleet.lb_stat().items():
                    r = next((r for r in fleet.replicas if r.slot == slot), None)
                    if r or slot == "BACKEND":
                        log(f"  {slot:8} {row.get('status', ''):6} port {r.port if r else '-'} "
                            f"served {row.get('stot', '')} retries {row.get('wretr', '')}")
            elif cmd == "add":
                log(f"  added on port {fleet.add().port}")
            elif cmd == "stop" and fleet.replicas:
                log(f"  stopped, exit status {fleet.stop(fleet.replicas[-1])}")
            elif cmd == "roll":
                for old in list(fleet.replicas):
                    new = fleet.add()
                    log(f"  {new.name} ready on port {new.port}; {old.name} drained, exit {fleet.stop(old)}")
            elif cmd == "kill" and fleet.replicas:
                r = fleet.kill(fleet.replicas[0])
                log(f"  killed {r.name}; haproxy marked it DOWN after {fleet.forget(r):.2f} s")
            elif cmd in ("quit", "exit"):
                break
            elif cmd:
                log("  commands: status | add | stop | roll | kill | quit")
    except KeyboardInterrupt:
        pass
    finally:
        for r in list(fleet.replicas):
            fleet.stop(r)
        fleet.close()
    return 0


def main():
    build = os.path.join(ROOT, "build", "release")
    models = os.environ.get("ENHANCE_MODELS_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "enhance", "models")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["up", "test"])
    p.add_argument("--enhance", default=os.path.join(build, "enhance"))
    p.add_argument("--loadgen", default=os.path.join(build, "bench", "serve", "serve_loadgen"))
    p.add_argument("--models-dir", default=models, help="where the models are installed")
    p.add_argument("--models-config", help="up: the replicas' --models-config (default: deploy/models.json "
                   "with the models installed in --models-dir)")
    p.add_argument("--replicas", type=int, default=3)
    p.add_argument("--cores", type=int, default=1, help="each replica's --cores")
    p.add_argument("--port", type=int, default=8080, help="up: the balancer's port")
    p.add_argument("--work", help="folder for logs and CSVs (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="test: keep the work folder")
    p.add_argument("--clients", type=int, default=6, help="test: closed-loop clients of the mixed load")
    p.add_argument("--steady", type=float, default=6, help="test: seconds of steady load")
    p.add_argument("--max-requests", type=int, default=2000, help="test: bound on the mixed load")
    p.add_argument("--window", type=float, default=8, help="test: seconds per autoscaling window")
    p.add_argument("--overload", type=float, default=1.6, help="test: high load / one replica's capacity")
    p.add_argument("serve_args", nargs="*", help="up: more enhance serve options (after --)")
    a = p.parse_args()
    if not shutil.which("haproxy"):
        print("SKIP: haproxy is not installed (apt-get install haproxy)")
        return 77
    if a.mode == "test":
        if not os.path.exists(os.path.join(a.models_dir, MODEL + ".param")):
            print(f"SKIP: {MODEL} is not installed in {a.models_dir} (enhance models fetch {MODEL})")
            return 77
        return run_test(a)
    return run_up(a)


if __name__ == "__main__":
    sys.exit(main())
