/* curve_handshake_server <bind-to>: a REP (CURVE server) that echoes every request,
 * forever; the server side of curve_handshakes. Stop it with a signal. */
#include "curve_common.h"

int main (int argc, char *argv[])
{
    if (argc != 2)
        usage ("curve_handshake_server <bind-to>");
    void *ctx = zmq_ctx_new ();
    check_ptr (ctx, "zmq_ctx_new");
    void *rep = curve_socket (ctx, ZMQ_REP, 1);
    check (zmq_bind (rep, argv[1]), "zmq_bind");

    zmq_msg_t msg;
    check (zmq_msg_init (&msg), "zmq_msg_init");
    while (1) {
        check (zmq_msg_recv (&msg, rep, 0), "zmq_msg_recv");
        /* The client may be gone already; REP then drops the reply. */
        check (zmq_msg_send (&msg, rep, 0), "zmq_msg_send");
    }
}
