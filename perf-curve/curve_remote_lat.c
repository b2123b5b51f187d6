/* curve_remote_lat <connect-to> <message-size> <roundtrip-count>: libzmq's remote_lat
 * over CURVE. A REQ (CURVE client) connects, then sends a message and waits for its
 * echo roundtrip-count times, and prints elapsed / (2 * roundtrips). The clock starts
 * right after zmq_connect, so the first round trip includes the CURVE handshake. */
#include "curve_common.h"

int main (int argc, char *argv[])
{
    if (argc != 4)
        usage ("curve_remote_lat <connect-to> <message-size> <roundtrip-count>");
    const char *connect_to = argv[1];
    size_t message_size = (size_t) atol (argv[2]);
    long roundtrip_count = atol (argv[3]);
    if (roundtrip_count < 1)
        usage ("curve_remote_lat <connect-to> <message-size> <roundtrip-count>");

    void *ctx = zmq_ctx_new ();
    check_ptr (ctx, "zmq_ctx_new");
    void *req = curve_socket (ctx, ZMQ_REQ, 0);
    check (zmq_connect (req, connect_to), "zmq_connect");

    zmq_msg_t msg;
    check (zmq_msg_init_size (&msg, message_size), "zmq_msg_init_size");
    memset (zmq_msg_data (&msg), 0, message_size);
    uint64_t start = now_us ();
    for (long i = 0; i != roundtrip_count; i++) {
        check (zmq_msg_send (&msg, req, 0), "zmq_msg_send");
        check (zmq_msg_recv (&msg, req, 0), "zmq_msg_recv");
        if (zmq_msg_size (&msg) != message_size) {
            fprintf (stderr, "message of incorrect size received\n");
            return 1;
        }
    }
    uint64_t elapsed = now_us () - start;
    check (zmq_msg_close (&msg), "zmq_msg_close");

    double latency = (double) elapsed / ((double) roundtrip_count * 2);
    printf ("message size: %zu [B]\n", message_size);
    printf ("roundtrip count: %ld\n", roundtrip_count);
    printf ("average latency: %.3f [us]\n", latency);

    check (zmq_close (req), "zmq_close");
    check (zmq_ctx_term (ctx), "zmq_ctx_term");
    return 0;
}
