#!/usr/bin/env python3
"""session_tty.py CMD...: runs CMD (a `gantry ssh JOB -- sh -c 'stty size; read x; stty
size'` through gantryd) on a terminal of 33 rows and 111 columns, waits for the worker to
print "33 111", resizes the terminal to 40x120 and presses Enter, then waits for "40 120"
and the end. Prints what it saw, one line each: "size1 R C", "size2 R C", "exit N". For the
tests: the terminal's size goes through the daemon at start and on SIGWINCH."""
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
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    set_size(fd, 33, 111)
    buf = b""
    sizes = []
    deadline = time.monotonic() + 40
    resized = False
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
        sizes = re.findall(rb"(\d+) (\d+)\r?\n", buf)
        if sizes and not resized:
            set_size(fd, 40, 120)  # the kernel sends SIGWINCH to the client
            time.sleep(0.5)  # the resize frame before the Enter (not a readiness wait)
            os.write(fd, b"\r")
            resized = True
    _, st = os.waitpid(pid, 0)
    for i, (r, c) in enumerate(sizes[:2]):
        print("size%d %s %s" % (i + 1, r.decode(), c.decode()))
    print("exit %d" % (os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)))


main()
