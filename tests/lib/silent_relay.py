#!/usr/bin/env python3
# A TCP relay in front of PostgreSQL that can fall silent, for
# cluster_silent.sh: a database host that accepts connections and never
# answers (a hung failover, a half-dead proxy). Single-threaded (selectors).
#
#   silent_relay.py LISTEN_PORT TARGET_PORT STATE_FILE
#
# Forwards 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT. SIGUSR1: silent
# (every connection open now is closed; new ones are accepted and then
# neither read nor answered); SIGUSR2: forwarding again (the silent
# connections are closed). STATE_FILE holds "forward" or "silent" once the
# switch is done, so the test can wait for it. SIGTERM ends it.
import os
import selectors
import signal
import socket
import sys

listen_port, target_port, state_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sel = selectors.DefaultSelector()
pairs = {}  # socket -> its peer (forwarding)
held = []  # accepted while silent: never read, never answered
mode = "forward"
wanted = "forward"


def write_state(s):
    tmp = state_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(s + "\n")
    os.rename(tmp, state_file)


def close_pair(s):
    peer = pairs.pop(s, None)
    for x in (s, peer):
        if x is None:
            continue
        pairs.pop(x, None)
        try:
            sel.unregister(x)
        except (KeyError, ValueError):
            pass
        x.close()


def switch(to):
    global mode
    if to == "silent":
        for s in list(pairs):
            close_pair(s)
    else:
        for s in held:
            s.close()
        held.clear()
    mode = to
    write_state(to)


def on_signal(signum, frame):
    global wanted
    wanted = "silent" if signum == signal.SIGUSR1 else "forward"


signal.signal(signal.SIGUSR1, on_signal)
signal.signal(signal.SIGUSR2, on_signal)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", listen_port))
ls.listen(64)
sel.register(ls, selectors.EVENT_READ)
write_state(mode)

while True:
    if wanted != mode:
        switch(wanted)
    try:
        events = sel.select(timeout=0.05)
    except InterruptedError:
        continue
    for key, _ in events:
        s = key.fileobj
        if s is ls:
            c, _ = ls.accept()
            if mode == "silent":
                held.append(c)
                continue
            try:
                up = socket.create_connection(("127.0.0.1", target_port), timeout=5)
            except OSError:
                c.close()
                continue
            up.settimeout(None)
            pairs[c], pairs[up] = up, c
            sel.register(c, selectors.EVENT_READ)
            sel.register(up, selectors.EVENT_READ)
            continue
        if s not in pairs:
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            close_pair(s)
            continue
        try:
            pairs[s].sendall(data)
        except OSError:
            close_pair(s)
