/* curve_local_thr <bind-to> <message-size> <message-count>: libzmq's local_thr over
 * CURVE. A PULL (CURVE server) binds, receives the messages and prints the rate,
 * timed from the first message received, in local_thr's words. */
#include "curve_common.h"

int main (int argc, char *argv[])
{
    if (argc != 4)
        usage ("curve_local_thr <bind-to> <message-size> <message-count>");
    const char *bind_to = argv[1];
    size_t message_size = (size_t) atol (argv[2]);
    long message_count = atol (argv[3]);
    if (message_count < 1)
        usage ("curve_local_thr <bind-to> <message-size> <message-count>");

    void *ctx = zmq_ctx_new ();
    check_ptr (ctx, "zmq_ctx_new");
    void *pull = curve_socket (ctx, ZMQ_PULL, 1);
    check (zmq_bind (pull, bind_to), "zmq_bind");

    zmq_msg_t msg;
    check (zmq_msg_init (&msg), "zmq_msg_init");
    uint64_t start = 0;
    for (long i = 0; i != message_count; i++) {
        check (zmq_msg_recv (&msg, pull, 0), "zmq_msg_recv");
        if (zmq_msg_size (&msg) != message_size) {
            fprintf (stderr, "message of incorrect size received\n");
            return 1;
        }
        if (i == 0)
            start = now_us ();
    }
    uint64_t elapsed = now_us () - start;
    if (elapsed == 0)
        elapsed = 1;
    check (zmq_msg_close (&msg), "zmq_msg_close");

    unsigned long throughput =
      (unsigned long) ((double) message_count / (double) elapsed * 1000000);
    double megabits = (double) throughput * (double) message_size * 8 / 1000000;
    printf ("message size: %zu [B]\n", message_size);
    printf ("message count: %ld\n", message_count);
    printf ("mean throughput: %lu [msg/s]\n", throughput);
    printf ("mean throughput: %.3f [Mb/s]\n", megabits);

    check (zmq_close (pull), "zmq_close");
    check (zmq_ctx_term (ctx), "zmq_ctx_term");
    return 0;
}
