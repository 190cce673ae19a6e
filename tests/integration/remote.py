"""A second, SSH-reachable "Docker host" for integration tests, and a controller without the Docker SDK.

The target is a real sshd (the system's /usr/sbin/sshd, not a mock) started by the test session:

- it listens on 127.0.0.1 only, on a random free port, with its own host key, pid file and log;
- it accepts exactly one client key, generated for the session; the client checks the host key
  against a known_hosts file written for it (StrictHostKeyChecking=yes, no TOFU);
- its Python is a separate virtualenv built from the Debian system Python (3.11, not the controller's
  3.12) holding only the Docker SDK for Python and its dependencies. It is cached in
  build/remote-target/ (PyPI once, then offline).

The controller is the dev venv's ansible-core, run by a Python whose site-packages are the dev venv's
minus `docker`: so a passing run proves the SDK is needed on the target, not on the controller.

Both talk to the one local Docker daemon: the "remote" host shares the daemon with the tests, which is
what lets them inspect the stack; what differs is everything Ansible sees (connection, user, key,
interpreter, Python packages).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

import yaml

from harness import ROOT, VENV_BIN, VENV_PYTHON, Ansible, AnsibleRun, run
import contextlib

SSHD = Path("/usr/sbin/sshd")
TARGET_BASE_PYTHON = Path(os.environ.get("BOSUN_TARGET_BASE_PYTHON", "/usr/bin/python3.11"))
TARGET_CACHE = ROOT / "build" / "remote-target"
TARGET_HOST = "dockerhost"  # the inventory name of the SSH target


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: t.Callable[[], t.Any], timeout: float, what: str, interval: float = 0.2) -> t.Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _installed_docker_version() -> str:
    return run([VENV_PYTHON, "-c", "import importlib.metadata as m; print(m.version('docker'))"]).stdout.strip()


# ---------------------------------------------------------------------------------------------------------------
# Interpreters: the target's (SDK, no Ansible) and the controller's (Ansible, no SDK)


def target_python(docker_version: str | None = None) -> Path:
    """The target's interpreter: a venv of the system Python 3.11 with only the Docker SDK (by default the same
    version as the dev venv's; pip picks the newest requests it allows), cached under build/remote-target/.
    Built atomically, so concurrent sessions do not clash."""
    base = TARGET_BASE_PYTHON if TARGET_BASE_PYTHON.exists() else Path(sys.base_prefix) / "bin" / "python3"
    version = docker_version or _installed_docker_version()
    pyver = run([base, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()
    venv = TARGET_CACHE / f"py{pyver}-docker{version}"
    python = venv / "bin" / "python"
    if python.exists() and run([python, "-c", "import docker"], check=False).returncode == 0:
        return python
    TARGET_CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=TARGET_CACHE))
    # Built in a temporary directory, then renamed into place (same file system, atomic). Only bin/python is
    # used, a symlink to the base interpreter, so the venv works from its final path.
    staging = tmp / venv.name
    run([base, "-m", "venv", staging], timeout=120)
    run(
        [staging / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", f"docker=={version}"],
        timeout=300,
    )
    try:
        os.rename(staging, venv)
    except OSError:
        if not (python.exists() and run([python, "-c", "import docker"], check=False).returncode == 0):
            raise
    shutil.rmtree(tmp, ignore_errors=True)
    return python


def bare_python(workdir: Path) -> Path:
    """A venv of the target's base Python with no packages at all (no Docker SDK), for the failure case."""
    base = TARGET_BASE_PYTHON if TARGET_BASE_PYTHON.exists() else Path(sys.base_prefix) / "bin" / "python3"
    venv = workdir / "bare-venv"
    run([base, "-m", "venv", "--without-pip", venv], timeout=60)
    return venv / "bin" / "python"


def controller_env(workdir: Path) -> Path:
    """A bin directory with ansible, ansible-playbook, ... run by a Python that cannot import `docker`.

    A venv (no pip) of the dev venv's base interpreter whose site-packages links every entry of the dev
    venv's site-packages except the Docker SDK. Returns the bin directory (put it first on PATH)."""
    venv = workdir / "controller-venv"
    run([VENV_PYTHON, "-m", "venv", "--without-pip", venv], timeout=60)
    python = venv / "bin" / "python"
    src = Path(run([VENV_PYTHON, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    dst = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    for entry in src.iterdir():
        if entry.name == "docker" or entry.name.startswith("docker-"):
            continue
        target = dst / entry.name
        if not target.exists():
            target.symlink_to(entry)
    for script in VENV_BIN.iterdir():
        if not script.name.startswith("ansible"):
            continue
        head, _sep, rest = script.read_text(encoding="utf-8", errors="replace").partition("\n")
        if not head.startswith("#!"):
            continue
        wrapper = venv / "bin" / script.name
        wrapper.write_text(f"#!{python}\n{rest}", encoding="utf-8")
        wrapper.chmod(0o755)
    probe = run([python, "-c", "import ansible, ansible_runner; import docker"], check=False)
    assert probe.returncode != 0 and "No module named 'docker'" in probe.stderr, probe
    run([python, "-c", "import ansible, ansible_runner, yaml"])
    return venv / "bin"


# ---------------------------------------------------------------------------------------------------------------
# The SSH target


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


@dataclasses.dataclass
class SshTarget:
    """A running sshd on 127.0.0.1:port and what a client needs to reach it."""

    workdir: Path
    port: int
    key: Path
    known_hosts: Path
    python: Path
    control_dir: Path
    proc: subprocess.Popen
    user: str = "root"

    @property
    def log(self) -> Path:
        return self.workdir / "sshd.log"

    def inventory(self, *, python: Path | None = None, pipelining: bool = True, **host_vars: t.Any) -> dict:
        """The inventory (YAML-able dict) of the target host, in group `dockerhosts`."""
        hv = {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_connection": "ssh",
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={self.known_hosts}",
            # Never leave interpreter discovery to chance: it can pick a broken pyenv shim on these hosts.
            "ansible_python_interpreter": str(python or self.python),
            "ansible_ssh_pipelining": pipelining,
            **host_vars,
        }
        return {"all": {"children": {"dockerhosts": {"hosts": {TARGET_HOST: hv}}}}}

    def session_pids(self) -> list[int]:
        """The sshd processes serving connections: every sshd below the listener (not the listener, and not
        the commands those sessions run, such as a module's Python)."""
        found, todo = [], list(_children(self.proc.pid))
        while todo:
            pid = todo.pop()
            if _comm(pid) == "sshd":
                found.append(pid)
                todo.extend(_children(pid))
        return found

    def kill_sessions(self) -> list[int]:
        """SIGKILL every sshd process serving a connection: the connection drops as on a network loss."""
        pids = self.session_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def close_masters(self) -> None:
        """Ask every ControlPersist master of this session to exit."""
        for sock in self.control_dir.iterdir():
            subprocess.run(
                ["ssh", "-O", "exit", "-o", f"ControlPath={sock}", "x"], capture_output=True, check=False, timeout=10
            )

    def stop(self) -> None:
        self.close_masters()
        sessions = self.session_pids()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        shutil.rmtree(self.control_dir, ignore_errors=True)


def start_sshd(workdir: Path, python: Path) -> SshTarget:
    """Start sshd -D on 127.0.0.1:<free port> with keys generated into workdir; wait until it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    host_key, key = workdir / "ssh_host_ed25519_key", workdir / "id_ed25519"
    for k in (host_key, key):
        if not k.exists():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bosun-it", "-f", k])
    shutil.copy(workdir / "id_ed25519.pub", workdir / "authorized_keys")
    # ControlPath sockets must fit in 108 bytes: a short directory of their own, removed at the end.
    control_dir = Path(tempfile.mkdtemp(prefix="bosun-cp-", dir="/tmp"))
    last_error = ""
    for _attempt in range(3):
        port = free_port()
        config = workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {workdir / 'sshd.pid'}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    f"AuthorizedKeysFile {workdir / 'authorized_keys'}",
                    "StrictModes no",
                    "UsePAM no",
                    "PrintMotd no",
                    "LogLevel VERBOSE",
                    "Subsystem sftp /usr/lib/openssh/sftp-server",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        run([SSHD, "-t", "-f", config])
        proc = subprocess.Popen(
            [str(SSHD), "-D", "-f", str(config), "-E", str(workdir / "sshd.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def banner(port=port, proc=proc):
            if proc.poll() is not None:
                return "exited"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    return s.recv(64).decode(errors="replace") or False
            except OSError:
                return False

        answer = wait_until(banner, 15, f"sshd on 127.0.0.1:{port}")
        if answer.startswith("SSH-2.0"):
            pub = (workdir / "ssh_host_ed25519_key.pub").read_text(encoding="utf-8").split()
            known_hosts = workdir / "known_hosts"
            known_hosts.write_text(f"[127.0.0.1]:{port} {pub[0]} {pub[1]}\n", encoding="utf-8")
            return SshTarget(
                workdir=workdir,
                port=port,
                key=key,
                known_hosts=known_hosts,
                python=python,
                control_dir=control_dir,
                proc=proc,
            )
        last_error = (workdir / "sshd.log").read_text(encoding="utf-8", errors="replace")
    raise AssertionError(f"sshd did not start:\n{last_error}")


class SshAnsible(Ansible):
    """The harness's Ansible runner, against the SSH target with the SDK-less controller (see controller_env)."""

    def __init__(self, workdir: Path, target: SshTarget, controller_bin: Path, **inventory_kw: t.Any) -> None:
        super().__init__(workdir)
        self.target = target
        self.controller_bin = controller_bin
        self.inventory_kw = inventory_kw

    def _prepare(self):
        d, env = super()._prepare()
        (d / "hosts.ini").unlink()
        (d / "hosts.yml").write_text(yaml.safe_dump(self.target.inventory(**self.inventory_kw)), encoding="utf-8")
        env.update(
            {
                "PATH": f"{self.controller_bin}{os.pathsep}{os.environ.get('PATH', '')}",
                "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.target.control_dir),
                "ANSIBLE_HOST_KEY_CHECKING": "1",
            }
        )
        env.pop("ANSIBLE_PYTHON_INTERPRETER", None)  # the inventory names the target's interpreter
        return d, env

    def argv(self, tool: str, d: Path) -> list[str]:
        return [str(self.controller_bin / tool), "-i", str(d / "hosts.yml")]

    def playbook(self, plays, *, check=False, diff=False, extra_vars=None, args=(), timeout=300) -> AnsibleRun:
        d, env = self._prepare()
        pb = d / "playbook.yml"
        pb.write_text(plays if isinstance(plays, str) else yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
        argv = self.argv("ansible-playbook", d) + [str(pb)]
        argv += ["--check"] if check else []
        argv += ["--diff"] if diff else []
        if extra_vars:
            argv += ["--extra-vars", json.dumps(extra_vars)]
        return self._finish(d, argv + list(args), env, timeout)

    def adhoc(self, module, module_args=None, *, pattern=TARGET_HOST, check=False, args=(), timeout=300) -> AnsibleRun:
        d, env = self._prepare()
        argv = self.argv("ansible", d) + [pattern, "-m", module]
        if module_args:
            argv += ["-a", module_args if isinstance(module_args, str) else json.dumps(module_args)]
        argv += ["--check"] if check else []
        return self._finish(d, argv + list(args), env, timeout)

    def popen(self, plays, extra_vars: dict | None = None) -> tuple[subprocess.Popen, Path]:
        """Start ansible-playbook in the background (own session); returns the process and its directory."""
        d, env = self._prepare()
        pb = d / "playbook.yml"
        pb.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
        argv = self.argv("ansible-playbook", d) + [str(pb)]
        if extra_vars:
            argv += ["--extra-vars", json.dumps(extra_vars)]
        out = open(d / "output.txt", "w", encoding="utf-8")  # noqa: SIM115  # pylint: disable=consider-using-with
        proc = subprocess.Popen(
            argv, cwd=d, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        return proc, d


# ---------------------------------------------------------------------------------------------------------------
# A remote Docker Engine over tcp:// with mutual TLS: a TLS-terminating proxy in front of the local socket


@dataclasses.dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here: trusting it must fail


def make_pki(d: Path, server_names: t.Sequence[str] = ("DNS:localhost", "IP:127.0.0.1")) -> Pki:
    """A CA, a server certificate for `server_names` and a client certificate, with the openssl CLI."""
    d.mkdir(parents=True, exist_ok=True)

    def openssl(*args):
        run(["openssl", *args], cwd=d)

    for ca in ("ca", "other-ca"):
        openssl(
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN=bosun-it {ca}",
            "-keyout",
            f"{ca}-key.pem",
            "-out",
            f"{ca}.pem",
        )
    ext = {
        "server": f"subjectAltName={','.join(server_names)}\nextendedKeyUsage=serverAuth\n",
        "client": "extendedKeyUsage=clientAuth\n",
    }
    for who in ("server", "client"):
        (d / f"{who}.ext").write_text(ext[who], encoding="utf-8")
        openssl(
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            f"/CN=bosun-it {who}",
            "-keyout",
            f"{who}-key.pem",
            "-out",
            f"{who}.csr",
        )
        openssl(
            "x509",
            "-req",
            "-in",
            f"{who}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            f"{who}.ext",
            "-out",
            f"{who}.pem",
        )
    return Pki(
        ca=d / "ca.pem",
        server_cert=d / "server.pem",
        server_key=d / "server-key.pem",
        client_cert=d / "client.pem",
        client_key=d / "client-key.pem",
        other_ca=d / "other-ca.pem",
    )


class TlsEngineProxy:
    """Listens on 127.0.0.1:<port> with TLS, requires a client certificate signed by the CA, and relays
    each connection to the local daemon's unix socket: to a client it is a remote engine with tlsverify."""

    def __init__(self, pki: Pki, socket_path: str = "/var/run/docker.sock") -> None:
        self.socket_path = socket_path
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.server_cert, pki.server_key)
        self.ctx.load_verify_locations(pki.ca)
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.port = self.listener.getsockname()[1]
        self.handshakes_failed = 0
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tls-engine-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def __enter__(self) -> TlsEngineProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            conn.close()
            return
        self.connections += 1
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.socket_path)
        except OSError:
            tls.close()
            return

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=pump, args=(upstream, tls), daemon=True)
        back.start()
        pump(tls, upstream)
        back.join(timeout=30)
        tls.close()
        upstream.close()
