#!/usr/bin/env python3
"""ptydrive.py: runs a command on a pseudo-terminal of a given size and drives it, for the
tests of interactive shells into pods (tests/integration/k8s_shell.sh).

Usage: ptydrive.py ROWS COLS STEP... -- COMMAND...
Steps, in order:
  expect:REGEX     wait (10 s at most) until the output so far matches REGEX
  resize:ROWS:COLS set the terminal's size (the kernel sends SIGWINCH to the command)
  send:TEXT        type TEXT ("\\r" for Enter)
Then waits for the command to exit and prints its whole output, then a last line
"ptydrive: exit N, terminal restored" (or "... terminal NOT restored": the command left
the terminal's modes changed). Exits 0 when every step passed, 1 otherwise.
"""
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 4:
        sys.exit(__doc__)
    sep = args.index("--")
    rows, cols = int(args[0]), int(args[1])
    steps, cmd = args[2:sep], args[sep + 1:]
    master, slave = pty.openpty()
    set_size(slave, rows, cols)
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.execvp(cmd[0], cmd)
    out = b""
    ok = True

    def pump(timeout):
        """1: read something, 0: nothing within timeout, -1: the terminal is closed."""
        nonlocal out
        r, _, _ = select.select([master], [], [], timeout)
        if master not in r:
            return 0
        try:
            d = os.read(master, 65536)
        except OSError:
            return -1
        if not d:
            return -1
        out += d
        return 1

    for st in steps:
        kind, _, arg = st.partition(":")
        if kind == "expect":
            deadline = time.monotonic() + 10
            while not re.search(arg.encode(), out) and time.monotonic() < deadline:
                if pump(0.1) < 0:
                    break
            if not re.search(arg.encode(), out):
                sys.stdout.write("ptydrive: never saw %r\n" % arg)
                ok = False
                break
        elif kind == "resize":
            r, c = arg.split(":")
            set_size(master, int(r), int(c))
        elif kind == "send":
            os.write(master, arg.encode().decode("unicode_escape").encode())
    deadline = time.monotonic() + 15
    status = None
    while time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
        pump(0.1)
    while pump(0.2) > 0:
        pass
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        ok = False
    after = termios.tcgetattr(slave)
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.stdout.write("\nptydrive: exit %s, terminal %s\n"
                     % (status, "restored" if after == before else "NOT restored"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
