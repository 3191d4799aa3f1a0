"""deploy/local/fleetlib.py - `enhance serve` replicas and the HAProxy in front of them, on loopback.

Replica: one `enhance serve` on a free loopback port (--port 0 --port-file) with its probes on
another (--probe-port), ready when its /readyz answers 200 there. Fleet: HAProxy
(deploy/local/haproxy.cfg) with 6 server slots; add() starts a replica and gives it a slot
through the runtime API (address, health-check port = the probe port, enable) once ready,
then waits for HAProxy's own health check to have it UP, as an endpoint joins a Service;
stop() is SIGTERM + drain + exit status; kill() is SIGKILL. Also the Prometheus text parser
and a tiny HTTP GET shared with tests/deploy/check_k8s.py. Standard library only.
Every child process dies with this one (PR_SET_PDEATHSIG).
"""
import os
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SLOTS = 6  # server slots in haproxy.cfg


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
        # probes and scrapes on a listener of their own (--probe-port), as in deploy/k8s: a
        # replica whose API port is full still answers the balancer's health check
        self.probe_port = free_port()
        cmd = [fleet.enhance, "serve", "--host", "127.0.0.1", "--port", "0", "--port-file", portfile,
               "--probe-port", str(self.probe_port), "--models-config", fleet.config, "--log-level", "info"] + args
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.port, self.slot, self.exit = None, None, None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({self.proc.returncode}): see {self.log.name}")
            if self.port is None and os.path.exists(portfile) and os.path.getsize(portfile):
                self.port = int(open(portfile).read())
            if self.port and http_get(self.probe_port, "/readyz")[0] == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{name} not ready in 120 s: see {self.log.name}")

    def metrics(self):
        st, body = http_get(self.probe_port, "/metrics")
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
        self.lb_cmd(f"set server enhance/{r.slot} check-port {r.probe_port}")
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
