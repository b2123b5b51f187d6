"""A libzmq peer (pyzmq, libzmq 4.3.5 with CURVE) for monocoque's security tests.

Usage:
  pyzmq_peer.py rep-server ENDPOINT MECHANISM [ARGS...]   echo every request
  pyzmq_peer.py req-client ENDPOINT MECHANISM COUNT [ARGS...]
  pyzmq_peer.py pub-server ENDPOINT MECHANISM [ARGS...]   publish "a <i>" and "b <i>"

MECHANISM and ARGS:
  curve SERVER_SECRET [ALLOWED_CLIENT_PUBLIC...]   server side; with keys, a ZAP handler
                                                   accepts only those (400 otherwise)
  curve SERVER_PUBLIC CLIENT_SECRET                client side
  plain USER PASSWORD                              client side
  plain USER:PASSWORD...                           server side, through a ZAP handler

A server prints "bound <endpoint>" once bound and runs until killed or its stdin
closes. A ZAP handler prints "zap <mechanism> <status>" for every request it answers.
A client prints each reply and exits 0 after COUNT of them, 1 on a 5 s timeout.
"""

import sys
import threading

import zmq
import zmq.utils.z85


def zap_handler(ctx, decide):
    handler = ctx.socket(zmq.REP)
    handler.bind("inproc://zeromq.zap.01")
    ready = threading.Event()

    def run():
        ready.set()
        while True:
            try:
                frames = handler.recv_multipart()
            except zmq.ContextTerminated:
                return
            version, request_id, domain, address, identity, mechanism = frames[:6]
            credentials = frames[6:]
            ok = decide(mechanism.decode(), credentials)
            status = b"200" if ok else b"400"
            print("zap", mechanism.decode(), status.decode(), flush=True)
            user = b"user" if ok else b""
            handler.send_multipart([version, request_id, status, b"", user, b""])

    threading.Thread(target=run, daemon=True).start()
    ready.wait()


def configure(ctx, sock, server, mechanism, args):
    if mechanism == "curve" and server:
        secret = args[0].encode()
        sock.curve_secretkey = secret
        sock.curve_publickey = zmq.curve_public(secret)
        sock.curve_server = True
        allowed = {zmq.utils.z85.decode(k.encode()) for k in args[1:]}
        if allowed:
            zap_handler(ctx, lambda m, c: m == "CURVE" and c[0] in allowed)
    elif mechanism == "curve":
        server_public, client_secret = args[0].encode(), args[1].encode()
        sock.curve_serverkey = server_public
        sock.curve_secretkey = client_secret
        sock.curve_publickey = zmq.curve_public(client_secret)
    elif mechanism == "plain" and server:
        users = dict(a.encode().split(b":", 1) for a in args)
        sock.plain_server = True
        zap_handler(ctx, lambda m, c: m == "PLAIN" and users.get(c[0]) == c[1])
    elif mechanism == "plain":
        sock.plain_username = args[0].encode()
        sock.plain_password = args[1].encode()
    elif mechanism != "null":
        sys.exit("unknown mechanism " + mechanism)


def wait_for_stdin_eof():
    """Serves until the test closes our stdin (or kills us)."""
    sys.stdin.read()


def echo(sock):
    while True:
        sock.send_multipart(sock.recv_multipart())


def publish(sock):
    i = 0
    stop = threading.Event()
    while not stop.wait(0.001):
        for topic in (b"a", b"b"):
            sock.send(topic + b" " + str(i).encode())
        i += 1


def main():
    role, endpoint, mechanism = sys.argv[1], sys.argv[2], sys.argv[3]
    ctx = zmq.Context()
    servers = {"rep-server": (zmq.REP, echo), "pub-server": (zmq.PUB, publish)}
    if role in servers:
        kind, work = servers[role]
        sock = ctx.socket(kind)
        configure(ctx, sock, True, mechanism, sys.argv[4:])
        sock.bind(endpoint)
        print("bound", sock.last_endpoint.decode(), flush=True)
        threading.Thread(target=work, args=(sock,), daemon=True).start()
        wait_for_stdin_eof()
    elif role == "req-client":
        count = int(sys.argv[4])
        sock = ctx.socket(zmq.REQ)
        sock.rcvtimeo = 5000
        sock.linger = 0
        configure(ctx, sock, False, mechanism, sys.argv[5:])
        sock.connect(endpoint)
        for i in range(count):
            sock.send_multipart([b"Hello %d" % i, b"x" * 70000])
            try:
                reply = sock.recv_multipart()
            except zmq.Again:
                print("timeout", flush=True)
                sys.exit(1)
            print(reply[0].decode(), len(reply[1]), flush=True)
    else:
        sys.exit("unknown role " + role)
    sys.exit(0)


if __name__ == "__main__":
    main()
