"""Opens COUNT connections to HOST:PORT, one after the other; on each writes the same
bytes (a CURVE greeting and HELLO), reads the server's greeting and WELCOME (234
bytes: proof the server did its part), then stalls: never sends INITIATE. Prints
"stalled COUNT" once all are open and keeps them until its stdin closes.

Usage: stall_hello.py HOST PORT COUNT HEX_BYTES
"""

import socket
import sys

host, port, count, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])
held = []
for _ in range(count):
    s = socket.create_connection((host, port))
    s.sendall(payload)
    got = 0
    while got < 64 + 2 + 168:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("server closed a connection during the handshake")
        got += len(chunk)
    held.append(s)
print("stalled", len(held), flush=True)
sys.stdin.read()
