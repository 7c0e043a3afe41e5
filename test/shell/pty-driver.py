"""Types into a program on a pseudo-terminal, as a person would, for test/shell/interactive.test.ts.

    python3 pty-driver.py '<steps as JSON>' program args...

Each step is one of {"send": text} (keys, "\t" is Tab, "\r" Enter), {"expect": text} (wait until the program has
printed text after the previous match), {"run": [argv]} (run another command to the end, e.g. a second client).
Prints everything the program printed; exits 1 naming the first expectation that was not met within
stepWaitSecondsMax (a bound that keeps a broken run from hanging, not a timing assertion).
"""
import json
import os
import pty
import select
import subprocess
import sys
import time

stepWaitSecondsMax = 30

steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

output = b""
mark = 0
failure = None


def read_some(timeout):
    global output
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return True
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        return False  # the program ended
    if not chunk:
        return False
    output += chunk
    return True


for step in steps:
    if "send" in step:
        os.write(fd, step["send"].encode())
    elif "run" in step:
        subprocess.run(step["run"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    elif "expect" in step:
        wanted = step["expect"].encode()
        deadline = time.monotonic() + stepWaitSecondsMax
        while output.find(wanted, mark) == -1 and time.monotonic() < deadline:
            if not read_some(0.1):
                break
        found = output.find(wanted, mark)
        if found == -1:
            failure = "never printed: " + step["expect"]
            break
        mark = found + len(wanted)

# Let the program finish (the last step is usually quit), then report.
deadline = time.monotonic() + stepWaitSecondsMax
while time.monotonic() < deadline and read_some(0.1):
    pass
try:
    os.kill(pid, 9)
except ProcessLookupError:
    pass
sys.stdout.write(output.decode("utf-8", "replace"))
if failure is not None:
    sys.stderr.write(failure + "\n")
    sys.exit(1)
