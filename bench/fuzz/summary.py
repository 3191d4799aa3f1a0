#!/usr/bin/python3
"""bench/fuzz/summary.py [LOG...]: one Markdown table row per run.sh log (build/fuzz/logs/*.log by
default): target, start (UTC), seconds, executions, exec/s, libFuzzer's final cov / ft, corpus,
peak RSS, what it found (the first ERROR / SUMMARY line, or 0) and the load average at the start.
A run still going (no "done" line) is shown from its last status line, marked "running"."""
import glob
import os
import re
import sys


def row(path):
    text = open(path, errors="replace").read()
    lines = text.splitlines()
    if not lines:
        return None
    m = re.match(r"(\S+) load (\S+) \S+ \S+: \S*fuzz_(\w+) ", lines[0])
    if not m:
        return None
    start, load, target = m.group(1), m.group(2), m.group(3)
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M))
    status = [l for l in lines if re.match(r"#\d+\s+(pulse|DONE|NEW|REDUCE|INITED)", l)]
    last = status[-1] if status else ""
    cov = re.search(r"cov: (\d+) ft: (\d+) corp: (\S+)", last)
    execs = stats.get("number_of_executed_units") or (re.match(r"#(\d+)", last).group(1) if last else "0")
    done = [l for l in lines if l.endswith(": done")]
    secs = ""
    if done:
        from datetime import datetime
        t0 = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ")
        t1 = datetime.strptime(done[-1].split()[0], "%Y-%m-%dT%H:%M:%SZ")
        secs = str(int((t1 - t0).total_seconds()))
    rate = stats.get("average_exec_per_sec") or (re.search(r"exec/s: (\d+)", last).group(1) if "exec/s" in last else "")
    found = next((l.strip() for l in lines if "ERROR:" in l or l.startswith("SUMMARY:")), "0")
    return "| `%s` | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s |" % (
        target, start[11:16], secs or "running", execs, rate, cov.group(1) if cov else "?", cov.group(2) if cov else "?",
        cov.group(3) if cov else "?", stats.get("peak_rss_mb", "?"), found[:120].replace("|", "/"), load)


def main():
    logs = sys.argv[1:] or sorted(glob.glob(os.path.join(os.path.dirname(__file__), "../../build/fuzz/logs/*.log")))
    print("| target | start | seconds | executions | exec/s | cov / ft | corpus | peak RSS MB | findings | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in logs:
        r = row(p)
        if r:
            print(r)


if __name__ == "__main__":
    main()
