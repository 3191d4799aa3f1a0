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
Files: fleetlib.py (replicas, the balancer), fleet_test.py (the test's scenario), this CLI.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree when CTest runs this
from fleet_test import MODEL, run_test  # noqa: E402
from fleetlib import Fleet, log  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
