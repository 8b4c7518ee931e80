"""How often a spawned child still holds its parent's close-on-exec lock descriptor after
posix_spawn has returned in the parent (the reason scenarios/exec-child.toml pauses before
killing the holder).

    python3 reports/tools/vfork_window.py 20000

Each round: take flock on an O_CLOEXEC descriptor, posix_spawn /bin/true, close the
descriptor, then try the lock from a new one. A refusal means the child had not yet closed
its copy: the kernel wakes the parent of a vfork-style spawn when the child switches to the
new program's memory, and closes close-on-exec descriptors only after that.
"""

import fcntl
import os
import shutil
import sys
import tempfile


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    tmp = tempfile.mkdtemp(prefix="vfork-window-")
    path = os.path.join(tmp, "app.lock")
    held = 0
    try:
        for _ in range(rounds):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            pid = os.posix_spawn("/bin/true", ["true"], os.environ)
            os.close(fd)
            probe = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(probe, fcntl.LOCK_UN)
            except BlockingIOError:
                held += 1
            os.close(probe)
            os.waitpid(pid, 0)
    finally:
        shutil.rmtree(tmp)
    print(f"still held by the child after posix_spawn returned: {held}/{rounds}")


if __name__ == "__main__":
    main()
