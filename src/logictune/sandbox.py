"""Run model-written Python (hostile input) in a sandbox and say what happened.

Two layers. The OS layer is the boundary: with bubblewrap, own network, pid, ipc and uts namespaces, a
read-only /, fresh tmpfs /tmp, home and work dir; without it, a plain process (as uid nobody when we are
root). Both: rlimits, own session, scrubbed environment, a wall clock that kills the whole tree, capped
output. The audit-hook layer (refusing sockets, subprocesses, fork, kill, ctypes, writes outside the work
dir) is defence in depth only: Python's docs say audit hooks are not a sandbox, code in the process can get
round them. The tests run every attack with it off too.

Follows human-eval's execution.py (rlimits, reliability_guard), evalplus and Qwen2.5-Math's python_executor
(process pool, timeouts). LOGICTUNE_SANDBOX=process, read once by isolation(), forces the process backend.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

STATUSES = ("ok", "error", "timeout", "memory", "output_limit", "blocked")
NOBODY = 65534
TEMP_PREFIX = f"logictune-sandbox-{os.getpid()}-"  # host temp dirs, one per program, removed after it
WORK = "/tmp/work"  # the work dir inside bwrap (a tmpfs)
_MARK = "\n__logictune_sandbox_error__ "  # the wrapper's last stderr line on an exception: the type name
_PROBE = """import math, os
try:
    pid = os.fork()
except OSError:
    print("nproc")  # RLIMIT_NPROC holds: with processes=1 not even one child
else:
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print(math.isqrt(1764))
"""

# Trusted code run by the sandbox's interpreter (python -I -S -B -c). argv[1]: json settings.
_WRAPPER = r"""
import builtins, json, os, resource, sys, traceback, types
cfg = json.loads(sys.argv[1])
if cfg["uid"] is not None:  # bwrap as root: drop to nobody before any program code exists in the process
    os.setgroups([]); os.setgid(cfg["uid"]); os.setuid(cfg["uid"])
    if 0 in os.getresuid():
        os._exit(101)
# Here, not in preexec_fn: bwrap's own clone()s must not count, and inside a user namespace only the
# sandbox's processes count against it.
resource.setrlimit(resource.RLIMIT_NPROC, (cfg["nproc"], cfg["nproc"]))
sys.path.extend(cfg["paths"])
work = os.getcwd()
with open("program.py", encoding="utf-8", errors="replace") as f:
    source = f.read()

class SandboxBlocked(PermissionError):
    pass

def audit_hook(work):
    deny = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
            "os.forkpty", "os.kill", "os.killpg", "ctypes.", "resource.setrlimit", "pty.")
    path_args = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.rename": 2, "os.link": 2, "os.symlink": 2,
                 "os.truncate": 1, "os.chmod": 1, "os.chown": 1, "os.utime": 1, "shutil.rmtree": 1}
    writes = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    def inside(path):  # a fd is allowed: opening it was checked
        if isinstance(path, int):
            return True
        p = os.path.realpath(os.fsdecode(path))
        return p == work or p.startswith(work + os.sep)

    def hook(event, args):  # a closure, so program code cannot just reassign its settings
        if event == "ctypes.dlopen" and args[0] is None:  # import ctypes (numpy does); not loading a library
            return
        if event.startswith(deny):
            raise SandboxBlocked(event)
        if event == "open":
            path, mode, flags = args
            if ((mode and any(c in mode for c in "wax+")) or (flags or 0) & writes) and not inside(path):
                raise SandboxBlocked(f"open {path!r} for writing")
        elif event in path_args and not all(inside(a) for a in args[:path_args[event]]):
            raise SandboxBlocked(f"{event} {args[:path_args[event]]!r}")
    return hook

if cfg["audit"]:
    sys.addaudithook(audit_hook(work))
builtins.exit = builtins.quit = sys.exit  # site (not loaded: -S) would define them; programs call exit()
main = types.ModuleType("__main__")  # the program's own __main__ (dataclasses, pickle look it up)
main.__file__ = os.path.join(work, "program.py")
sys.modules["__main__"] = main
try:
    exec(compile(source, main.__file__, "exec"), main.__dict__)
except Exception as e:  # SystemExit passes: the exit code is the program's own
    traceback.clear_frames(e.__traceback__)  # free the program's data first: a MemoryError needs the room
    main.__dict__.clear()
    try:
        tb, depth = e.__traceback__.tb_next, 0  # from the program's frame on
        t = tb
        while t is not None:
            t, depth = t.tb_next, depth + 1
        for _ in range(depth - 30):  # the last 30 only: a RecursionError has a million, slow to format
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb, file=sys.__stderr__)
    except BaseException:
        pass
    # The parent reads the type from this line. Program code can forge it: that only misreports itself.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os.write(2, (MARK + type(e).__name__ + "\n").encode())  # fd 2: whatever sys.stderr became
    os._exit(1)
""".replace("MARK", repr(_MARK))


@dataclass(frozen=True)
class Limits:
    timeout: float = 5.0  # wall-clock seconds
    cpu_seconds: int = 5  # RLIMIT_CPU: SIGXCPU at this, SIGKILL a second later
    memory_mb: int = 1024  # RLIMIT_AS (python -I -S starts, imports included, under 16 MB of it)
    file_size_mb: int = 8  # RLIMIT_FSIZE; each bwrap tmpfs holds 4x this
    open_files: int = 64  # RLIMIT_NOFILE
    processes: int = 64  # RLIMIT_NPROC, where the kernel enforces it (not for uid 0): see Isolation.nproc
    output_bytes: int = 65536  # stdout and stderr each kept up to this; past it the program is killed
    audit: bool = True  # the audit-hook layer; tests turn it off to test the OS layer alone
    python_paths: tuple[str, ...] = ()  # extra import paths (e.g. a site-packages); default stdlib only


@dataclass(frozen=True)
class Result:
    status: str  # one of STATUSES
    stdout: str
    stderr: str
    error: str | None  # "error"/"memory"/"blocked": the exception's type name ("SystemExit" for a non-zero
    # exit, "SIGSEGV" for a crash), else None
    seconds: float  # wall time
    returncode: int | None = None


@dataclass(frozen=True)
class Isolation:
    backend: str  # "bwrap" or "process"
    network: bool  # own network namespace: no host ports, no internet
    filesystem: bool  # / read-only, only fresh tmpfs dirs writable
    pids: bool  # own pid namespace: host processes invisible and unsignalable; all die with the run
    nproc: bool  # RLIMIT_NPROC holds (probed: a fork fails at processes=1)
    uid: int  # the host uid the program runs as
    interpreter: str
    version: str = ""  # "bubblewrap 0.8.0"
    bwrap: str = ""

    def describe(self) -> str:
        """One line: what is and is not isolated here."""
        user = "nobody" if self.uid == NOBODY else f"uid {self.uid}"
        nproc = "RLIMIT_NPROC holds" if self.nproc else "RLIMIT_NPROC NOT enforced"
        if self.backend == "bwrap":
            spaces = "network, pid, ipc, uts" + (", user" if os.geteuid() != 0 else "")  # root: _bwrap_argv
            return (f"sandbox: {self.version} — own {spaces} namespaces; read-only /, fresh tmpfs home, "
                    f"/tmp and work dir; runs as {user}; rlimits ({nproc}); scrubbed env. NOT isolated: "
                    f"reading files outside home that {user} may read; CPU and cache side channels")
        return (f"sandbox: process only — rlimits ({nproc}), own session, scrubbed env, temp work dir, "
                f"runs as {user}. NOT isolated: network, other processes of {user} (can see and signal "
                f"them), files {user} can read or write (e.g. /tmp, /dev/shm)")


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _bwrap_argv(iso: Isolation, limits: Limits, program: str) -> list[str]:
    size = str(4 * limits.file_size_mb << 20)
    argv = [iso.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",  # this pid ns's /proc only
            "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
            "--perms", "0777", "--size", size, "--tmpfs", WORK,
            "--ro-bind", program, WORK + "/program.py"]
    hidden, home = ["/tmp"], os.path.realpath(os.path.expanduser("~"))
    if os.path.isdir(home) and not _under(WORK, home):  # hide the caller's dotfiles (API keys, tokens)
        argv += ["--perms", "0755", "--size", size, "--tmpfs", home]
        hidden.append(home)
    prefix = os.path.dirname(os.path.dirname(iso.interpreter))  # .../bin/python3.11 -> ...
    for path in (prefix, *map(os.path.realpath, limits.python_paths)):
        if any(_under(path, h) for h in hidden):  # put back what the program needs: read-only, parents 0755
            argv += ["--perms", "0755", "--dir", path, "--ro-bind", path, path]
    if os.geteuid() == 0:
        # No user namespace: there uid 0 would map to the host's root, which RLIMIT_NPROC and file modes
        # do not stop. The wrapper drops to nobody with these two capabilities, then has none.
        argv += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                 "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-all", "--unshare-user", "--disable-userns"]
    argv += ["--die-with-parent", "--new-session", "--clearenv"]
    for key, value in _env(WORK).items():
        argv += ["--setenv", key, value]
    return argv + ["--chdir", WORK, "--"]


def _env(work: str) -> dict[str, str]:
    # Nothing of ours (API keys...) gets through. TMPDIR: tempfile works and stays in the work dir.
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8", "HOME": work, "TMPDIR": work}


def _rlimits(limits: Limits) -> list[tuple[int, int, int]]:
    mb = 1 << 20
    wanted = [(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),
              (resource.RLIMIT_AS, limits.memory_mb * mb, limits.memory_mb * mb),
              (resource.RLIMIT_FSIZE, limits.file_size_mb * mb, limits.file_size_mb * mb),
              (resource.RLIMIT_NOFILE, limits.open_files, limits.open_files),
              (resource.RLIMIT_CORE, 0, 0)]
    out = []
    for res, soft, hard in wanted:  # never above our own hard limit (setrlimit would fail in the child)
        cap = resource.getrlimit(res)[1]
        hard = hard if cap == resource.RLIM_INFINITY else min(hard, cap)
        out.append((res, min(soft, hard), hard))
    return out


def _set_rlimits(rlimits: list[tuple[int, int, int]]) -> None:  # preexec_fn: nothing but system calls
    for res, soft, hard in rlimits:
        resource.setrlimit(res, (soft, hard))


def _reap(token: bytes) -> None:
    """Process backend: SIGKILL every process whose environment carries this run's token (children that
    left the session with setsid too), until none is left. Not needed in bwrap: the pid namespace dies."""
    for _ in range(50):
        found = False
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if token in f.read():
                        os.kill(int(pid), signal.SIGKILL)
                        found = True
            except OSError:
                pass
        if not found:
            return
        time.sleep(0.01)


def _rmtree(path: str) -> None:
    if os.geteuid() != 0:  # a program may chmod 000 its dirs; root removes them anyway
        for top, dirs, _ in os.walk(path):
            for d in dirs:
                if not os.path.islink(os.path.join(top, d)):
                    os.chmod(os.path.join(top, d), 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _execute(code: str, limits: Limits, iso: Isolation) -> Result:
    start = time.monotonic()
    host = tempfile.mkdtemp(prefix=TEMP_PREFIX)
    token = uuid.uuid4().hex  # in the environment: _reap finds the run's processes by it
    drop = iso.uid if iso.uid != os.getuid() else None
    try:
        program = os.path.join(host, "program.py")
        with open(program, "w", encoding="utf-8", errors="replace") as f:
            f.write(code)
        env = _env(WORK if iso.backend == "bwrap" else host)
        env["LOGICTUNE_SANDBOX_RUN"] = token
        cfg = {"uid": drop if iso.backend == "bwrap" else None, "nproc": limits.processes,
               "audit": limits.audit, "paths": list(limits.python_paths)}
        cmd = [iso.interpreter, "-I", "-S", "-B", "-c", _WRAPPER, json.dumps(cfg)]
        user = {}
        if iso.backend == "bwrap":
            cmd = _bwrap_argv(iso, limits, program) + cmd
            os.chmod(program, 0o644)  # bound read-only into the sandbox, where nobody reads it
        elif drop is not None:
            os.chown(host, drop, drop)
            os.chown(program, drop, drop)
            user = {"user": drop, "group": drop, "extra_groups": []}
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=host, start_new_session=True,
                                preexec_fn=functools.partial(_set_rlimits, _rlimits(limits)), **user)
        status, out = _collect(proc, limits, start, iso, f"LOGICTUNE_SANDBOX_RUN={token}".encode())
        rc = proc.returncode
    finally:
        _rmtree(host)
    stdout, stderr = (out[k].decode("utf-8", errors="replace") for k in ("out", "err"))
    error = None
    if status is None:
        # bwrap exits 128 + signal for a killed child (a program's own exit(137) reads the same: its loss)
        sig = -rc if rc < 0 else rc - 128 if iso.backend == "bwrap" and rc > 128 else 0
        mark = stderr.rfind(_MARK)
        if rc == 0:
            status = "ok"
        elif sig in (signal.SIGXCPU, signal.SIGKILL):  # the CPU limit: SIGXCPU, then SIGKILL at the hard one
            status = "timeout"
        elif sig:  # a crash: SIGSEGV (C stack), SIGABRT...
            status, error = "error", _signal_name(sig)
        elif rc == 1 and mark >= 0:
            error, _, rest = stderr[mark + len(_MARK):].partition("\n")  # forked children may write on
            error, stderr = error.strip(), stderr[:mark] + rest
            status = {"MemoryError": "memory", "SandboxBlocked": "blocked"}.get(error, "error")
        else:
            status, error = "error", "SystemExit"
    return Result(status, stdout, stderr, error, time.monotonic() - start, rc)


def _collect(proc: subprocess.Popen, limits: Limits, start: float, iso: Isolation, token: bytes):
    """Read stdout and stderr as they come, up to the cap; kill at the cap or the deadline."""
    bufs = {"out": bytearray(), "err": bytearray()}
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    status, reaped = None, False
    try:
        while sel.get_map() and status is None:
            left = start + limits.timeout - time.monotonic()
            if left <= 0:
                status = "timeout"
                break
            for key, _ in sel.select(min(left, 0.2)):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = bufs[key.data]
                buf += chunk
                if len(buf) > limits.output_bytes:
                    del buf[limits.output_bytes:]
                    status = "output_limit"
            # Exited but the pipes are open: children that outlived it hold them (process backend only).
            # WNOWAIT: the pid stays ours (a zombie) until proc.wait(): killpg below cannot hit a reused one.
            if not reaped and iso.backend == "process" and os.waitid(
                    os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                _reap(token)
                reaped = True
    finally:
        # bwrap: killing it kills its pid namespace's init (--die-with-parent), and so everything inside
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if iso.backend == "process":
            _reap(token)
        proc.wait()
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    return status, bufs


def _probe(iso: Isolation) -> Isolation | None:
    """A trial run; the isolation with nproc filled in, or None when this backend does not work here."""
    try:
        res = _execute(_PROBE, Limits(timeout=20, processes=1, audit=False), iso)
    except OSError:
        return None
    if res.status != "ok" or not res.stdout.endswith("42\n"):
        return None
    return replace(iso, nproc=res.stdout.startswith("nproc"))


@functools.cache
def isolation() -> Isolation:
    """What this machine gives, probed once: bubblewrap if it works, else a plain process."""
    base = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)  # not the venv's
    uid = NOBODY if os.geteuid() == 0 else os.getuid()
    bwrap = shutil.which("bwrap")
    if bwrap and os.environ.get("LOGICTUNE_SANDBOX", "") != "process":
        version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip()
        iso = _probe(Isolation("bwrap", network=True, filesystem=True, pids=True, nproc=False, uid=uid,
                               interpreter=base, version=version, bwrap=bwrap))
        if iso:
            return iso
    # nobody may not reach our interpreter (e.g. under /root): then a system one of the same version
    minor = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    plain = Isolation("process", network=False, filesystem=False, pids=False, nproc=False, uid=uid,
                      interpreter=base)
    for interpreter in dict.fromkeys([base, f"/usr/bin/{minor}", f"/usr/local/bin/{minor}"]):
        if os.path.exists(interpreter) and (iso := _probe(replace(plain, interpreter=interpreter))):
            return iso
    return replace(plain, uid=os.getuid())  # could not run as nobody: runs as we do


def run(code: str, *, timeout: float | None = None, limits: Limits = Limits()) -> Result:
    """Run one program in its own sandboxed process; never raises for anything the program does."""
    if timeout is not None:
        limits = replace(limits, timeout=timeout)
    return _execute(code, limits, isolation())


class Pool:
    """A bounded pool of workers (threads, each waiting on a sandboxed process) with a cache by program
    hash: the same code (and limits) runs once, concurrent submissions share its future."""

    def __init__(self, workers: int = 2, limits: Limits = Limits(), cache_size: int = 4096):
        self.limits = limits
        self.cache_size = cache_size
        self.hits = 0
        self.runs = 0
        self._cache: OrderedDict[str, Future[Result]] = OrderedDict()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="sandbox")
        isolation()  # probe once here, not in every worker at once

    def submit(self, code: str) -> Future[Result]:
        key = hashlib.sha256(f"{self.limits!r}\0{code}".encode("utf-8", "replace")).hexdigest()
        with self._lock:
            future = self._cache.get(key)
            if future is not None:
                self.hits += 1
                self._cache.move_to_end(key)
                return future
            self.runs += 1
            future = self._cache[key] = self._executor.submit(run, code, limits=self.limits)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        future.add_done_callback(functools.partial(self._forget_failure, key))
        return future

    def _forget_failure(self, key: str, future: Future[Result]) -> None:  # our failure, not the program's
        if future.cancelled() or future.exception() is not None:
            with self._lock:
                if self._cache.get(key) is future:
                    del self._cache[key]

    def map(self, codes: list[str]) -> list[Result]:
        return [f.result() for f in [self.submit(c) for c in codes]]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
