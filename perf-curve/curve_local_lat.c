/* curve_local_lat <bind-to> <message-size> <roundtrip-count>: libzmq's local_lat over
 * CURVE. A REP (CURVE server) binds and sends every request back. */
#include "curve_common.h"

int main (int argc, char *argv[])
{
    if (argc != 4)
        usage ("curve_local_lat <bind-to> <message-size> <roundtrip-count>");
    const char *bind_to = argv[1];
    size_t message_size = (size_t) atol (argv[2]);
    long roundtrip_count = atol (argv[3]);

    void *ctx = zmq_ctx_new ();
    check_ptr (ctx, "zmq_ctx_new");
    void *rep = curve_socket (ctx, ZMQ_REP, 1);
    check (zmq_bind (rep, bind_to), "zmq_bind");

    zmq_msg_t msg;
    check (zmq_msg_init (&msg), "zmq_msg_init");
    for (long i = 0; i != roundtrip_count; i++) {
        check (zmq_msg_recv (&msg, rep, 0), "zmq_msg_recv");
        if (zmq_msg_size (&msg) != message_size) {
            fprintf (stderr, "message of incorrect size received\n");
            return 1;
        }
        check (zmq_msg_send (&msg, rep, 0), "zmq_msg_send");
    }
    check (zmq_msg_close (&msg), "zmq_msg_close");

    check (zmq_close (rep), "zmq_close");
    check (zmq_ctx_term (ctx), "zmq_ctx_term");
    return 0;
}
