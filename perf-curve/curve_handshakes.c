/* curve_handshakes <connect-to> <count>: CURVE handshakes per second. For each of
 * count iterations a new REQ (CURVE client, linger 0) connects, sends 1 byte, receives
 * the reply and closes; one context for all. Pair it with curve_handshake_server (or
 * monocoque's). Prints the count and count / elapsed. */
#include "curve_common.h"

static void one_handshake (void *ctx, const char *connect_to)
{
    void *req = curve_socket (ctx, ZMQ_REQ, 0);
    int linger = 0;
    check (zmq_setsockopt (req, ZMQ_LINGER, &linger, sizeof linger),
           "zmq_setsockopt");
    check (zmq_connect (req, connect_to), "zmq_connect");
    char byte = 0;
    check (zmq_send (req, &byte, 1, 0), "zmq_send");
    if (zmq_recv (req, &byte, 1, 0) != 1) {
        fprintf (stderr, "error: no 1-byte reply\n");
        exit (1);
    }
    check (zmq_close (req), "zmq_close");
}

int main (int argc, char *argv[])
{
    if (argc != 3 || atol (argv[2]) < 1)
        usage ("curve_handshakes <connect-to> <count>");
    const char *connect_to = argv[1];
    long count = atol (argv[2]);

    void *ctx = zmq_ctx_new ();
    check_ptr (ctx, "zmq_ctx_new");
    uint64_t start = now_us ();
    for (long i = 0; i != count; i++)
        one_handshake (ctx, connect_to);
    uint64_t elapsed = now_us () - start;
    if (elapsed == 0)
        elapsed = 1;

    printf ("handshakes: %ld\n", count);
    printf ("mean rate: %.1f [handshakes/s]\n",
            (double) count / (double) elapsed * 1000000);
    check (zmq_ctx_term (ctx), "zmq_ctx_term");
    return 0;
}
