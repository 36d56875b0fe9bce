"""``python ARGS`` for the tests' many short child processes, forked from one warm
interpreter that has already imported torch: importing torch (and torch._dynamo, which
tracing on the meta device pulls in) is about 2.3 s of the 2.7 s that ``explorer summary
lenet5`` takes in a fresh interpreter, and the fuzz suites start about a hundred such
processes.

Each child is still a process of its own: its own working directory, environment,
standard streams (files), address-space cap, exit status, and a time limit after which it
is killed. It imports explorer itself, fresh, so everything explorer does at import
(reading its environment, Pillow's plugins looking for Ghostscript on PATH) happens in the
child as it would in a fresh interpreter. The warm interpreter imports nothing but
torch and what torch imports, and refuses to serve if that import wrote anything to
stderr (a fresh child would show it). A command whose PYTHON* variables differ from the
warm interpreter's (they act at start-up) runs in a fresh interpreter instead.

The server side (``serve``) runs in the warm interpreter: ``python warm_python.py SOCKET``.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

PRELOAD = ("torch", "torch._dynamo")
KILL = b"kill\n"


# ------------------------------------------------------------------ in the warm interpreter
def _child(request: dict, inherited: list[int]) -> None:
    """Become ``python ARGS`` in this forked process; never returns."""
    import atexit as child_atexit
    import resource
    import runpy
    import types

    code = 1
    try:
        for fd in inherited:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path, flags in ((0, os.devnull, os.O_RDONLY),
                                (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            opened = os.open(path, flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        if request["cap"]:
            resource.setrlimit(resource.RLIMIT_AS, (request["cap"], request["cap"]))
        option, target, *rest = request["args"]
        try:
            if option == "-m":  # as `python -m`: the working directory first on sys.path
                sys.path[0] = os.getcwd()
                sys.argv = ["-m", *rest]
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            else:  # "-c"
                sys.path[0] = ""
                sys.argv = ["-c", *rest]
                main = types.ModuleType("__main__")
                sys.modules["__main__"] = main
                exec(compile(target, "<string>", "exec"), main.__dict__)
            code = 0
        except SystemExit as exc:  # as the interpreter reads it
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:
            sys.excepthook(*sys.exc_info())
            code = 1
        threading._shutdown()  # as at interpreter exit: non-daemon threads, then atexit
        child_atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001  (anything here is this helper's own failure)
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        finally:
            code = 120
    os._exit(code & 0xFF)


def serve(sock_path: str) -> None:
    """Fork a child per connection; answer with its exit status when it ends."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    imported = [m for m in sys.modules if m.split(".")[0] in ("explorer", "PIL")]
    if imported:
        raise SystemExit(f"the warm interpreter must not import {imported[:3]}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, ("listener",))
    sel.register(sys.stdin, selectors.EVENT_READ, ("parent",))  # EOF: the tests are done
    children: dict[int, tuple[int, socket.socket]] = {}  # pid -> (pidfd, connection)
    killed: set[int] = set()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _ in sel.select():
            what = key.data
            if what[0] == "parent":
                if not sys.stdin.readline():
                    for pid in children:
                        os.kill(pid, signal.SIGKILL)
                    shutil.rmtree(os.path.dirname(sock_path), ignore_errors=True)
                    return
            elif what[0] == "listener":
                conn, _ = listener.accept()
                request = json.loads(conn.makefile("rb").readline())
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(request, [listener.fileno(), conn.fileno(),
                                     *(fd for fd, c in children.values()),
                                     *(c.fileno() for fd, c in children.values()),
                                     sel.fileno()])
                pidfd = os.pidfd_open(pid)
                children[pid] = (pidfd, conn)
                sel.register(pidfd, selectors.EVENT_READ, ("exit", pid))
                sel.register(conn, selectors.EVENT_READ, ("kill", pid))
            elif what[0] == "exit":  # the child ended: its status, as subprocess reads it
                pid = what[1]
                pidfd, conn = children.pop(pid)
                _, status = os.waitpid(pid, 0)
                sel.unregister(pidfd)
                if what[1] not in killed:
                    sel.unregister(conn)
                killed.discard(what[1])
                os.close(pidfd)
                try:
                    conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
                except OSError:
                    pass  # the test gave up on it
                conn.close()
            else:  # the test's time limit passed, or it went away: kill the child
                pid = what[1]
                os.kill(pid, signal.SIGKILL)
                sel.unregister(children[pid][1])  # its exit still answers
                killed.add(pid)


# ------------------------------------------------------------------------ in the tests
def _startup_env(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """What a new interpreter reads at start-up: the warm one must have read the same."""
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith("PYTHON")))


class _Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.folder = tempfile.mkdtemp(prefix="warm-python-")
        self.sock = os.path.join(self.folder, "sock")
        errors = Path(self.folder, "stderr")
        with open(errors, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, __file__, self.sock], env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err)
        ready = self.proc.stdout.readline()
        if ready != b"ready\n" or errors.read_bytes():
            self.proc.kill()
            raise RuntimeError("the warm interpreter did not start cleanly:\n"
                               + errors.read_text(errors="replace")[-3000:])

    def close(self) -> None:
        self.proc.stdin.close()  # it kills what is left, removes its folder and exits
        self.proc.wait(30)


_servers: dict[tuple, _Server] = {}
_lock = threading.Lock()


def _server(env: dict[str, str]) -> _Server:
    key = _startup_env(env)
    with _lock:
        if key not in _servers:
            if not _servers:
                atexit.register(lambda: [s.close() for s in _servers.values()])
            _servers[key] = _Server({k: v for k, v in os.environ.items()
                                     if not k.startswith("PYTHON")} | dict(key))
        return _servers[key]


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(64)
        if not chunk:
            raise RuntimeError("the warm interpreter went away")
        data += chunk
    return data


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float,
        cap_bytes: int = 0) -> subprocess.CompletedProcess:
    """As ``subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
    text=True, timeout=timeout)`` with RLIMIT_AS at ``cap_bytes`` (0: none); ``args``
    starts with -m MODULE or -c CODE."""
    if args[0] not in ("-m", "-c"):
        raise ValueError(f"python {args[0]}: only -m and -c run warm")
    server = _server(env)
    with tempfile.TemporaryDirectory(prefix="warm-run-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        request = {"args": list(args), "cwd": str(cwd), "env": env, "cap": cap_bytes,
                   "stdout": str(out), "stderr": str(err)}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(server.sock)
            conn.sendall(json.dumps(request).encode() + b"\n")
            conn.settimeout(timeout)
            try:
                status = _read_line(conn)
            except TimeoutError:
                conn.settimeout(None)
                conn.sendall(KILL)
                _read_line(conn)
                raise subprocess.TimeoutExpired([sys.executable, *args], timeout,
                                                out.read_bytes(), err.read_bytes()) from None
        return subprocess.CompletedProcess([sys.executable, *args], int(status),
                                           out.read_text(), err.read_text())


if __name__ == "__main__":
    serve(sys.argv[1])
