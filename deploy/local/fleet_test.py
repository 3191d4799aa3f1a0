"""deploy/local/fleet_test.py - the fleet test's scenario (`fleet.py test`, CTest deploy.fleet).

Bounded mixed load (bench/serve/loadgen --plan) through the balancer while the fleet is steady,
rolled (surge 1, unavailable 0) and missing a replica killed with SIGKILL; then the autoscaling
signal (queue depth and time per pod, open-loop load) on 1, 2, 3 replicas, with the HPA's rule
applied to it. Prints markdown tables; run_test returns the exit status (1 on a lost or wrong
request, a replica that did not exit 0 after SIGTERM, or a signal that does not move).
"""
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from fleetlib import Fleet, die_with_parent, log, metric_sum

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "realesrgan-x4fast"


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
        # the overload windows last until ~8 requests would be waiting on one replica (the
        # backlog grows by (overload - 1) x capacity per second), so a slow machine still
        # builds a queue the HPA's targets can see: 8 s at 3 req/s, 17 s at 0.8 req/s
        w_high = min(30.0, max(a.window, 8 / ((a.overload - 1) * mu)))
        for n, rate in ((1, low), (1, high), (2, high), (3, high)):
            while len(fleet.replicas) < n:
                fleet.add()
            d, q, thr, shed, bad = scale_window(fleet, a.loadgen, work, rate, a.window if rate == low else w_high,
                                                f"{n}-{rate:.0f}")
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
        # depth must fall with each replica added; the mean queue time by 3 replicas: on this
        # 2-CPU machine a second 1-core replica gets its CPU only when nothing else runs, and a CI
        # run at load 6-9 once measured 1.80 -> 1.91 -> 0.27 s for 1 -> 2 -> 3 replicas
        if not d2 < d1:
            failures.append("queue depth did not fall when a second replica was added")
        if not (d3 < d1 and q3 < q1):
            failures.append("queue depth/time did not fall with 3 replicas")
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
