#!/usr/bin/env python3
"""check_k8s.py - the Kubernetes manifests (deploy/k8s) held against the real server.

Renders deploy/k8s with `kubectl kustomize` (Debian: kubernetes-client) and checks:
  - the objects: ConfigMap, Deployment, Service, PodDisruptionBudget, HPA; selectors, names,
    named ports and the HPA's target agree with each other;
  - every argument of the Deployment (and of the Dockerfile's CMD) is an option that
    `enhance serve --help` lists, given as its own list item (the CLI takes "--port", "8080";
    "--port=8080" is an unknown option and the pod would crash-loop);
  - terminationGracePeriodSeconds > preStop sleep + --drain-timeout; rollingUpdate
    maxUnavailable 0 and maxSurge >= 1 (what deploy/local/fleet.py shows loses nothing);
  - the ConfigMap's models.json parses with the server's own parser (config_check), equals
    deploy/models.json (baked into the image), and its model instances fit in --cores; CPU
    request = CPU limit = --cores;
  - the probes ask the probe port (--probe-port: a listener outside --max-connections), which
    the Dockerfile exposes and health-checks too;
  - live: the server started with the Deployment's own arguments (address, ports, model
    folder and key file made local) answers the probe paths and the Prometheus path on the
    ports they name, asks for
    the bearer token, and its /metrics holds every series and label the prometheus-adapter
    rules query, with the right types; every HPA metric is one the rules produce.
Without kubectl the files named in kustomization.yaml are read directly (said in the output).
Exit 0 pass, 1 fail, 77 skip (no PyYAML).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "deploy", "local"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree when CTest runs this
from fleetlib import die_with_parent, free_port, http_get, parse_metrics  # noqa: E402

try:
    import yaml
except ImportError:
    print("SKIP: PyYAML is missing (apt-get install python3-yaml)")
    sys.exit(77)

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)
    return cond


def render(k8s):
    kubectl = shutil.which("kubectl")
    if kubectl:
        out = subprocess.run([kubectl, "kustomize", k8s], capture_output=True, text=True)
        ver = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True).stdout
        m = re.search(r'GitVersion:"([^"]+)"', ver) or re.search(r"Client Version: (\S+)", ver)
        ver = "kubectl " + (m.group(1) if m else "?")
        check(out.returncode == 0, f"kubectl kustomize deploy/k8s renders ({ver.strip()}) {out.stderr.strip()}")
        return [d for d in yaml.safe_load_all(out.stdout) if d]
    print("note: kubectl not found (Debian: apt-get install kubernetes-client); reading the files that "
          "kustomization.yaml lists instead of rendering them")
    kust = yaml.safe_load(open(os.path.join(k8s, "kustomization.yaml")))
    docs = []
    for f in kust["resources"]:
        docs += [d for d in yaml.safe_load_all(open(os.path.join(k8s, f))) if d]
    return docs


def serve_options(enhance):
    text = subprocess.run([enhance, "serve", "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"^\s+(--[a-z0-9-]+)", text, re.M)), text


def arg_pairs(args):
    """['--a', 'v', '--b', 'w'] -> {'--a': 'v', ...}; an item in the --name=value form is
    parsed too but reported: the CLI does not take that form."""
    out, i = {}, 0
    while i < len(args):
        a = args[i]
        if "=" in a:
            check(False, f"argument {a!r} as its own two items (the CLI has no --name=value form)")
            k, _, v = a.partition("=")
            out[k] = v
            i += 1
            continue
        check(a.startswith("--"), f"argument {a!r} is an option")
        out[a] = args[i + 1] if i + 1 < len(args) else None
        i += 2
    return out


def cpu(v):
    v = str(v)
    return float(v[:-1]) / 1000 if v.endswith("m") else float(v)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--enhance", required=True)
    p.add_argument("--config-check", required=True)
    p.add_argument("--models-dir", default=os.environ.get("ENHANCE_MODELS_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "enhance", "models"))
    a = p.parse_args()
    k8s = os.path.join(ROOT, "deploy", "k8s")
    docs = render(k8s)
    objs = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    for kind in ("ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        check(any(k == kind for k, _ in objs), f"{kind} present")
    dep = next(d for d in docs if d["kind"] == "Deployment")
    tmpl = dep["spec"]["template"]
    labels = tmpl["metadata"]["labels"]
    pod = tmpl["spec"]
    c = pod["containers"][0]
    options, help_text = serve_options(a.enhance)
    check(len(options) > 10, f"enhance serve --help lists {len(options)} options")

    # -- arguments
    args = arg_pairs(c.get("args", []))
    for k in args:
        check(k in options, f"Deployment argument {k} exists in enhance serve --help")
    port = int(args.get("--port", 8080))
    probe_port = int(args["--probe-port"]) if args.get("--probe-port") else None
    cores = int(args.get("--cores", 0))
    drain = float(args.get("--drain-timeout", 30))
    ports = {pp["name"]: pp["containerPort"] for pp in c.get("ports", [])}
    check(ports.get("http") == port, f"containerPort 'http' = --port {port}")
    if check(probe_port is not None, "--probe-port set (probes on a listener a full API port cannot starve)"):
        check(ports.get("probe") == probe_port, f"containerPort 'probe' = --probe-port {probe_port}")

    # -- probes, drain timing, rolling update
    probes = {n: c.get(n) for n in ("startupProbe", "livenessProbe", "readinessProbe")}
    for n, pr in probes.items():
        check(pr is not None, f"{n} set")
        if pr:
            hg = pr["httpGet"]
            check(hg["path"] in help_text, f"{n} path {hg['path']} is an endpoint of enhance serve --help")
            check(hg["port"] in ports or hg["port"] == port, f"{n} port {hg['port']} is the container's")
            if probe_port:
                check(ports.get(hg["port"], hg["port"]) == probe_port, f"{n} asks the probe port ({hg['port']})")
    check(probes["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness uses /readyz (503 while draining)")
    check(probes["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness uses /healthz (not /readyz)")
    pre = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    m = re.search(r"sleep\s+(\d+(\.\d+)?)", " ".join(pre))
    prestop = float(m.group(1)) if m else 0.0
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(grace > prestop + drain,
          f"terminationGracePeriodSeconds {grace} > preStop {prestop:g} s + --drain-timeout {drain:g} s")
    ru = dep["spec"].get("strategy", {}).get("rollingUpdate", {})
    check(str(ru.get("maxUnavailable")) == "0" and int(str(ru.get("maxSurge", 0)).rstrip("%")) >= 1,
          f"rollingUpdate maxUnavailable 0, maxSurge >= 1 ({ru})")

    # -- resources vs --cores
    res = c.get("resources", {})
    req, lim = res.get("requests", {}), res.get("limits", {})
    check(cores > 0 and cpu(req.get("cpu", 0)) == cores == cpu(lim.get("cpu", 0)),
          f"cpu request {req.get('cpu')} = limit {lim.get('cpu')} = --cores {cores}")

    # -- ConfigMap: parsed by the server's parser, mounted where --models-config points
    cm = objs.get(("ConfigMap", "enhance-models"))
    mounts = {vm["name"]: vm for vm in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    cfg_vol = next((n for n, v in vols.items() if v.get("configMap", {}).get("name") == "enhance-models"), None)
    check(cfg_vol in mounts, "the ConfigMap is mounted")
    work = tempfile.mkdtemp(prefix="enhance-k8s-")
    parsed = None
    if cm and cfg_vol in mounts:
        key = next(iter(cm["data"]))
        check(args.get("--models-config") == os.path.join(mounts[cfg_vol]["mountPath"], key),
              f"--models-config {args.get('--models-config')} = mount {mounts[cfg_vol]['mountPath']} + key {key}")
        path = os.path.join(work, key)
        with open(path, "w") as f:
            f.write(cm["data"][key])
        out = subprocess.run([a.config_check, path], capture_output=True, text=True)
        check(out.returncode == 0, f"the ConfigMap's {key} parses with the server's parser {out.stderr.strip()}")
        if out.returncode == 0:
            parsed = json.loads(out.stdout)
            inst = sum(mm["instances"] for mm in parsed["models"])
            check(inst <= cores, f"model instances ({inst}) fit in --cores {cores}")
        check(json.loads(cm["data"][key]) == json.load(open(os.path.join(ROOT, "deploy", "models.json"))),
              "the ConfigMap's models.json = deploy/models.json (the image's copy)")

    # -- secret, service, PDB, HPA wiring
    sec_vol = next((n for n, v in vols.items() if "secret" in v), None)
    if "--api-key-file" in args:
        check(sec_vol in mounts and os.path.dirname(args["--api-key-file"]) == mounts[sec_vol]["mountPath"],
              "--api-key-file lies in the mounted secret")
        example = yaml.safe_load(open(os.path.join(k8s, "secret.example.yaml")))
        check(vols[sec_vol]["secret"]["secretName"] == example["metadata"]["name"] and
              os.path.basename(args["--api-key-file"]) in example["stringData"],
              "the secret's name and key match secret.example.yaml")
    check(all(labels.get(k) == v for k, v in dep["spec"]["selector"]["matchLabels"].items()),
          "Deployment selector matches its pod labels")
    for kind in ("Service", "PodDisruptionBudget"):
        o = next((d for d in docs if d["kind"] == kind), None)
        if o:
            sel = o["spec"]["selector"]
            sel = sel.get("matchLabels", sel)
            check(all(labels.get(k) == v for k, v in sel.items()), f"{kind} selects the Deployment's pods")
    svc = next((d for d in docs if d["kind"] == "Service"), None)
    if svc:
        tp = svc["spec"]["ports"][0]["targetPort"]
        check(tp in ports or tp == port, f"Service targetPort {tp} is the container's port")
    ann = tmpl["metadata"].get("annotations", {})
    check(int(ann.get("prometheus.io/port", port)) in (port, probe_port),
          "prometheus.io/port = --port or --probe-port (both answer /metrics)")
    hpa = next((d for d in docs if d["kind"] == "HorizontalPodAutoscaler"), None)
    pdb = next((d for d in docs if d["kind"] == "PodDisruptionBudget"), None)
    if hpa:
        ref = hpa["spec"]["scaleTargetRef"]
        check(ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"], "HPA targets the Deployment")
        if pdb:
            check(hpa["spec"]["minReplicas"] > pdb["spec"].get("minAvailable", 0),
                  "HPA minReplicas > PDB minAvailable (a node drain can evict a pod)")

    # -- the Dockerfile's command line
    df = open(os.path.join(ROOT, "deploy", "Dockerfile")).read()
    cmd = re.search(r"^CMD\s+(\[.*\])", df, re.M)
    if check(cmd is not None, "Dockerfile has a CMD list"):
        dargs = arg_pairs(json.loads(cmd.group(1)))
        for k in dargs:
            check(k in options, f"Dockerfile CMD option {k} exists in enhance serve --help")
        check(re.search(rf"^EXPOSE\s+{dargs.get('--port')}\b", df, re.M) is not None, "EXPOSE = the CMD's --port")
        if dargs.get("--probe-port"):
            check(re.search(rf"^EXPOSE\s.*\b{dargs['--probe-port']}\b", df, re.M) is not None,
                  "EXPOSE lists the CMD's --probe-port")
            check(re.search(rf"^HEALTHCHECK .*:{dargs['--probe-port']}/healthz", df, re.M) is not None,
                  "the HEALTHCHECK asks the probe port")

    # -- adapter rules and HPA metric names
    rules = yaml.safe_load(open(os.path.join(k8s, "prometheus-adapter-rules.yaml")))["rules"]["custom"]
    produced = {}
    for r in rules:
        sq = r["seriesQuery"]
        sname = re.match(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", sq).group(1)
        check(re.search(r["name"]["matches"], sname) is not None,
              f"adapter rule {r['name']['as']}: name.matches {r['name']['matches']!r} matches series {sname}")
        produced[r["name"]["as"]] = r
    if hpa:
        for mtr in hpa["spec"]["metrics"]:
            if mtr["type"] == "Pods":
                n = mtr["pods"]["metric"]["name"]
                check(n in produced, f"HPA metric {n} is produced by an adapter rule")

    # -- live: the server with the Deployment's arguments
    live(a, args, cm, parsed, probes, ann, rules, work, ports)
    shutil.rmtree(work, ignore_errors=True)
    print(f"# k8s manifests: {'PASS' if not FAILS else 'FAIL (%d)' % len(FAILS)}")
    return 1 if FAILS else 0


def live(a, args, cm, parsed, probes, ann, rules, work, cports):
    if not parsed:
        return
    installed = [mm for mm in json.loads(next(iter(cm["data"].values())))["models"]
                 if os.path.exists(os.path.join(a.models_dir, mm["name"] + ".param"))]
    if not installed:
        print(f"note: none of the ConfigMap's models is installed in {a.models_dir}: live checks skipped "
              "(enhance models fetch realesrgan-x4fast)")
        return
    cfg = json.loads(next(iter(cm["data"].values())))
    cfg["models_dir"], cfg["models"] = a.models_dir, installed
    with open(os.path.join(work, "models.json"), "w") as f:
        json.dump(cfg, f)
    with open(os.path.join(work, "api-key"), "w") as f:
        f.write("test-key")
    local = dict(args)
    local.update({"--host": "127.0.0.1", "--port": "0", "--models-config": os.path.join(work, "models.json"),
                  "--api-key-file": os.path.join(work, "api-key"), "--port-file": os.path.join(work, "port")})
    if "--probe-port" in local:
        local["--probe-port"] = str(free_port())
    cmd = [a.enhance, "serve"] + [x for k, v in local.items() for x in (k, v)]
    print("live: " + " ".join(cmd[1:]) + f"  (models: {', '.join(m['name'] for m in installed)})")
    log = open(os.path.join(work, "server.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    try:
        port = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if port is None and os.path.exists(local["--port-file"]) and os.path.getsize(local["--port-file"]):
                port = int(open(local["--port-file"]).read())
            if port and http_get(port, "/readyz")[0] == 200:
                break
            time.sleep(0.1)
        if not check(port is not None and proc.poll() is None, "the server starts with the Deployment's arguments"):
            print(open(log.name).read())
            return
        # the container's ports as this server's: --port and --probe-port were made local
        local_of = {int(args.get("--port", 8080)): port}
        if "--probe-port" in local:
            local_of[int(args["--probe-port"])] = int(local["--probe-port"])
        for n, pr in probes.items():
            pp = local_of.get(cports.get(pr["httpGet"]["port"], pr["httpGet"]["port"]), port)
            st = http_get(pp, pr["httpGet"]["path"])[0]
            check(st == 200, f"{n} GET {pr['httpGet']['path']} on port {pr['httpGet']['port']} -> {st}")
        st = http_get(port, "/v1/models")[0]
        check(st == 401, f"/v1/models without the bearer token -> {st} (the secret is enforced)")
        st, text = http_get(local_of.get(int(ann.get("prometheus.io/port", port)), port),
                            ann.get("prometheus.io/path", "/metrics"))
        check(st == 200, f"prometheus.io/path {ann.get('prometheus.io/path', '/metrics')} -> {st}")
        samples, types = parse_metrics(text)
        check_rules(rules, samples, types)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        check(rc == 0, f"SIGTERM: the server drains and exits 0 ({rc})")


def check_rules(rules, samples, types):
    """Every series name a rule queries exists in /metrics with a fitting type; the label
    matchers other than namespace/pod (which Prometheus adds when it scrapes the pod) name
    labels the server exports."""
    for r in rules:
        names = set(re.findall(r"\b(enhance_[a-z0-9_]+)\b", r["seriesQuery"] + " " + r["metricsQuery"]))
        for n in sorted(names):
            base = re.sub(r"_(sum|count|bucket)$", "", n)
            typ = types.get(n) or types.get(base)
            check(n in samples,
                  f"adapter rule {r['name']['as']}: series {n} is in /metrics (before any request, as on a new pod)")
            if n.endswith(("_sum", "_count")):
                check(typ == "histogram", f"  {n} comes from a histogram ({typ})")
            elif "rate(" not in r["metricsQuery"]:
                check(typ == "gauge", f"  {n} is a gauge ({typ}): summed as is, not rated")
        for lab, _ in re.findall(r"([a-z_]+)\s*(=~|!=|=)", r["seriesQuery"].split("{", 1)[-1]):
            if lab in ("namespace", "pod"):
                continue
            have = any(lab in l for vals in samples.values() for l, _ in vals)
            check(have, f"adapter rule {r['name']['as']}: label {lab} is exported")
        over = r.get("resources", {}).get("overrides", {})
        check(set(over) <= {"namespace", "pod"}, "adapter overrides map only the scrape labels namespace/pod")


if __name__ == "__main__":
    sys.exit(main())
