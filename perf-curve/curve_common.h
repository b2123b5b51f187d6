/* Shared by the CURVE perf tools: the test keys of libzmq's zmq_curve(7) man page
 * (the same as monocoque's examples/perf/curve.rs), CURVE set-up, a clock and error
 * exits. The binding side is the CURVE server, the connecting side the client; no
 * ZAP handler, so the server accepts any client. */
#ifndef CURVE_COMMON_H
#define CURVE_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define SERVER_PUBLIC "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define SERVER_SECRET "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
#define CLIENT_PUBLIC "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define CLIENT_SECRET "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

/* Exits with the failed call's name and zmq_strerror, as libzmq's tools do. */
static inline void check (int rc, const char *what)
{
    if (rc == -1) {
        fprintf (stderr, "error in %s: %s\n", what, zmq_strerror (zmq_errno ()));
        exit (1);
    }
}

static inline void check_ptr (void *ptr, const char *what)
{
    if (ptr == NULL)
        check (-1, what);
}

static inline void set_key (void *socket, int option, const char *z85)
{
    /* 40 characters: the Z85 form of a 32-byte key. */
    check (zmq_setsockopt (socket, option, z85, strlen (z85)), "zmq_setsockopt");
}

static inline void curve_server (void *socket)
{
    int on = 1;
    check (zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &on, sizeof on),
           "zmq_setsockopt");
    set_key (socket, ZMQ_CURVE_SECRETKEY, SERVER_SECRET);
}

static inline void curve_client (void *socket)
{
    set_key (socket, ZMQ_CURVE_SERVERKEY, SERVER_PUBLIC);
    set_key (socket, ZMQ_CURVE_PUBLICKEY, CLIENT_PUBLIC);
    set_key (socket, ZMQ_CURVE_SECRETKEY, CLIENT_SECRET);
}

/* A new socket of `type` in `ctx`, a CURVE server or client. */
static inline void *curve_socket (void *ctx, int type, int server)
{
    void *socket = zmq_socket (ctx, type);
    check_ptr (socket, "zmq_socket");
    if (!zmq_has ("curve")) {
        fprintf (stderr, "error: this libzmq has no CURVE\n");
        exit (1);
    }
    if (server)
        curve_server (socket);
    else
        curve_client (socket);
    return socket;
}

/* Microseconds on the monotonic clock (libzmq's stopwatch counts the same). */
static inline uint64_t now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static inline void usage (const char *text)
{
    fprintf (stderr, "usage: %s\n", text);
    exit (1);
}

#endif
