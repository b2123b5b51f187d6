/* curve_remote_thr <connect-to> <message-size> <message-count>: libzmq's remote_thr
 * over CURVE. A PUSH (CURVE client) connects and sends the messages, each a fresh
 * zmq_msg_init_size, then closes with the default linger, which waits until all are
 * written. */
#include "curve_common.h"

int main (int argc, char *argv[])
{
    if (argc != 4)
        usage ("curve_remote_thr <connect-to> <message-size> <message-count>");
    const char *connect_to = argv[1];
    size_t message_size = (size_t) atol (argv[2]);
    long message_count = atol (argv[3]);

    void *ctx = zmq_ctx_new ();
    check_ptr (ctx, "zmq_ctx_new");
    void *push = curve_socket (ctx, ZMQ_PUSH, 0);
    check (zmq_connect (push, connect_to), "zmq_connect");

    for (long i = 0; i != message_count; i++) {
        zmq_msg_t msg;
        check (zmq_msg_init_size (&msg, message_size), "zmq_msg_init_size");
        check (zmq_msg_send (&msg, push, 0), "zmq_msg_send");
    }

    check (zmq_close (push), "zmq_close");
    check (zmq_ctx_term (ctx), "zmq_ctx_term");
    return 0;
}
