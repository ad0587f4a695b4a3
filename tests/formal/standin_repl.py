"""A STAND-IN for the Lean REPL, for tests and the pool benchmark: it speaks the same JSON protocol,
but it is not Lean and proves nothing. It exists so the pool's plumbing (header reuse, timeouts,
restarts, crashes, memory caps, back-pressure) can be tested on machines without a Lean toolchain.

Protocol as the real `repl`: JSON commands separated by blank lines on stdin; each answer is a
pretty-printed JSON object and a blank line on stdout; `{"message": ...}` for refused requests.

What it does with a command's text (the "directives" are for tests only):
- `CRASH`            exit at once with code 3 (as a REPL killed by the OS would look)
- `SLEEP(s)`         wait s seconds before answering (a proof that runs too long)
- `ALLOC(mb)`        allocate mb MiB (under RLIMIT_AS this fails and the process dies)
- `sorry`            reported in `sorries` with its position; the goal is `⊢ T` for `have h : T := by sorry`,
                     plus the "declaration uses `sorry`" warning
- a match of any regular expression in env STANDIN_FAIL (one per line; default "FAIL")
                     an error "stand-in: tactic failed at `MATCH`" at its position
- `import X` in a command with "env": an error, as imports are only allowed in a fresh environment.
`#eval Lean.versionString` answers "0.0.0-standin".
Env STANDIN_DELAY adds a fixed delay to every answer; STANDIN_LOG appends one JSON line per request.
`--json FILE` behaves as `lean --json FILE` (one JSON message per line, exit 1 on errors).
`--replay FILE` instead answers the N-th request with the N-th response recorded in FILE.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time


def read_block() -> str | None:
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:
            return "".join(lines) if lines else None
        if not line.strip():
            if lines:
                return "".join(lines)
            continue
        lines.append(line)


def position(text: str, index: int) -> dict:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1)
    return {"line": line, "column": column}


def answer(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n\n")
    sys.stdout.flush()


def elaborate(cmd: str, fail: list[str]) -> tuple[list, list]:
    messages, sorries = [], []
    for pattern in fail:
        m = re.search(pattern, cmd)
        if m:
            messages.append({"severity": "error", "pos": position(cmd, m.start()),
                             "endPos": position(cmd, m.end()), "data": f"stand-in: tactic failed at `{m.group(0)}`"})
    for m in re.finditer(r"\bsorry\b", cmd):
        line_start = cmd.rfind("\n", 0, m.start()) + 1
        have = re.search(r"have\s+\S+\s*:\s*(.+?)\s*:=\s*by\s*$", cmd[line_start:m.start()])
        goal = f"⊢ {have.group(1)}" if have else "⊢ ?"
        sorries.append({"proofState": len(sorries), "pos": position(cmd, m.start()),
                        "goal": goal, "endPos": position(cmd, m.end())})
    if sorries:
        messages.append({"severity": "warning", "pos": {"line": 1, "column": 0},
                         "endPos": {"line": 1, "column": 7}, "data": "declaration uses `sorry`"})
    return messages, sorries


def lean_json(path: str) -> int:
    """`lean --json FILE`: one JSON message per line; exit 1 when there is an error."""
    with open(path, encoding="utf-8") as f:
        code = f.read()
    if "CRASH" in code:
        sys.stderr.write("stand-in: crashing as asked\n")
        return 3
    for m in re.finditer(r"SLEEP\(([\d.]+)\)", code):
        time.sleep(float(m.group(1)))
    messages, _ = elaborate(code, [t for t in os.environ.get("STANDIN_FAIL", "FAIL").split("\n") if t])
    for msg in messages:
        print(json.dumps({"fileName": path, **msg}, ensure_ascii=False))
    return 1 if any(m["severity"] == "error" for m in messages) else 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--json":
        return lean_json(sys.argv[2])
    replay = None
    if len(sys.argv) == 3 and sys.argv[1] == "--replay":
        from formal.repl_protocol import parse_transcript

        with open(sys.argv[2], encoding="utf-8") as f:
            replay = parse_transcript(f.read())
    fail = [t for t in os.environ.get("STANDIN_FAIL", "FAIL").split("\n") if t]
    delay = float(os.environ.get("STANDIN_DELAY", "0"))
    log_path = os.environ.get("STANDIN_LOG")
    envs = 0
    served = 0
    while True:
        block = read_block()
        if block is None:
            return 0
        try:
            req = json.loads(block)
        except json.JSONDecodeError as e:
            answer({"message": f"Could not parse JSON:\n{e}"})
            continue
        if log_path:
            with open(log_path, "a") as f:
                f.write(json.dumps({"pid": os.getpid(), "env": req.get("env"), "cmd": req.get("cmd", "")}) + "\n")
        if replay is not None:
            answer(replay[served])
            served += 1
            continue
        cmd = req.get("cmd", "")
        if "CRASH" in cmd:
            sys.stderr.write("stand-in: crashing as asked\n")
            sys.stderr.flush()
            os._exit(3)
        for m in re.finditer(r"SLEEP\(([\d.]+)\)", cmd):
            time.sleep(float(m.group(1)))
        for m in re.finditer(r"ALLOC\((\d+)\)", cmd):
            block_ = bytearray(int(m.group(1)) * 1024 * 1024)
            block_[::4096] = b"x" * len(block_[::4096])
        if delay:
            time.sleep(delay)
        env = req.get("env")
        if env is not None and not (0 <= env < envs):
            answer({"message": "Unknown environment."})
            continue
        if env is not None and re.search(r"^\s*import\s", cmd, re.M):
            answer({"messages": [{"severity": "error", "pos": {"line": 1, "column": 0}, "endPos": None,
                                  "data": "invalid 'import' command, it must be used in the beginning of the file"}],
                    "env": envs})
            envs += 1
            continue
        messages, sorries = elaborate(cmd, fail)
        if cmd.strip() == "#eval Lean.versionString":  # what a toolchain probe asks
            messages.append({"severity": "info", "pos": {"line": 1, "column": 0}, "endPos": {"line": 1, "column": 5},
                             "data": '"0.0.0-standin"'})
        out: dict = {}
        if sorries:
            out["sorries"] = sorries
        if messages:
            out["messages"] = messages
        out["env"] = envs
        envs += 1
        answer(out)


if __name__ == "__main__":
    sys.exit(main())
