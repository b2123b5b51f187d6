//! inproc between sockets on different I/O threads of one context: messages both
//! ways and in order, connect before bind, subscriptions, high-water marks adding up
//! as between two sockets of one thread, and a rebind after the binder left.

use std::time::Duration;

use futures::executor::block_on;
use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::error::Error;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, SocketHandle};

const LIMIT: Duration = Duration::from_secs(20);

/// A context whose sockets alternate between two I/O threads: the first socket made
/// is on one, the second on the other.
fn two_threads() -> Context {
    Context::builder().io_threads(2).build().unwrap()
}

fn socket(context: &Context, socket_type: SocketType, options: SocketOptions) -> SocketHandle {
    context.socket_with_options(socket_type, options).unwrap()
}

#[test]
fn messages_cross_io_threads_in_order_both_ways() {
    const COUNT: u64 = 100_000;
    let context = two_threads();
    let pull = socket(&context, SocketType::Pull, SocketOptions::default());
    let push = socket(&context, SocketType::Push, SocketOptions::default());
    block_on(pull.bind("inproc://across")).unwrap();
    block_on(push.connect("inproc://across")).unwrap();
    let sender = std::thread::spawn(move || {
        for i in 0..COUNT {
            push.send_blocking(i.to_le_bytes().to_vec(), Some(LIMIT))
                .unwrap();
        }
    });
    for i in 0..COUNT {
        let message = pull.recv_blocking(Some(LIMIT)).unwrap();
        assert_eq!(message[0][..], i.to_le_bytes(), "message {i}");
    }
    sender.join().unwrap();

    // Request and reply, the REQ connecting before the REP binds.
    let req = socket(&context, SocketType::Req, SocketOptions::default());
    let rep = socket(&context, SocketType::Rep, SocketOptions::default());
    block_on(req.connect("inproc://later")).unwrap();
    req.send_blocking("question", Some(LIMIT)).unwrap();
    block_on(rep.bind("inproc://later")).unwrap();
    let question = rep.recv_blocking(Some(LIMIT)).unwrap();
    assert_eq!(&question[0][..], b"question");
    rep.send_blocking("answer", Some(LIMIT)).unwrap();
    assert_eq!(&req.recv_blocking(Some(LIMIT)).unwrap()[0][..], b"answer");
    context.terminate();
}

#[test]
fn a_subscription_crosses_io_threads() {
    let context = two_threads();
    let publisher = socket(&context, SocketType::Pub, SocketOptions::default());
    let subscriber = socket(&context, SocketType::Sub, SocketOptions::default());
    block_on(publisher.bind("inproc://news")).unwrap();
    block_on(subscriber.subscribe("A")).unwrap();
    block_on(subscriber.connect("inproc://news")).unwrap();
    // Until the subscription reached the publisher, nothing matches: publish until
    // the subscriber hears something, which must be an A.
    let heard = loop {
        publisher.send_blocking("B no", Some(LIMIT)).unwrap();
        publisher.send_blocking("A yes", Some(LIMIT)).unwrap();
        match subscriber.recv_blocking(Some(Duration::from_millis(10))) {
            Ok(message) => break message,
            Err(Error::TimedOut) => continue,
            Err(err) => panic!("{err}"),
        }
    };
    assert_eq!(&heard[0][..], b"A yes");
    context.terminate();
}

const SNDHWM: usize = 2;
const RCVHWM: usize = 3;

/// Sends to a PULL that reads nothing until a send waits; then reads. Returns how
/// many were queued, after checking each arrived once and in order.
fn queued_before_waiting(context: &Context) -> usize {
    let pull = socket(
        context,
        SocketType::Pull,
        SocketOptions::default().rcvhwm(RCVHWM),
    );
    let push = socket(
        context,
        SocketType::Push,
        SocketOptions::default().sndhwm(SNDHWM),
    );
    block_on(pull.bind("inproc://hwm")).unwrap();
    block_on(push.connect("inproc://hwm")).unwrap();
    let mut queued = 0u64;
    // A send that has not found room for this long found none: the queues between
    // the two sockets are full (this bounds the wait, it measures nothing).
    while push
        .send_blocking(
            queued.to_le_bytes().to_vec(),
            Some(Duration::from_millis(300)),
        )
        .is_ok()
    {
        queued += 1;
        assert!(queued < 100, "no high-water mark");
    }
    for i in 0..queued {
        let message = pull.recv_blocking(Some(LIMIT)).unwrap();
        assert_eq!(message[0][..], i.to_le_bytes());
    }
    queued as usize
}

/// A PUSH whose PULL reads nothing holds a bounded number of messages, whether the
/// two are on one I/O thread or two: the socket's queues (`sndhwm` + `rcvhwm`, as in
/// libzmq) and each handle's own (a PUSH handle's outbox and the batch its I/O
/// thread is sending, a PULL handle's read-ahead).
#[test]
fn high_water_marks_hold_across_io_threads_as_on_one() {
    let bounds = SNDHWM + RCVHWM..=4 * SNDHWM + 2 * RCVHWM;
    let one = Context::new().unwrap();
    let on_one_thread = queued_before_waiting(&one);
    one.terminate();
    assert!(bounds.contains(&on_one_thread), "{on_one_thread}");
    let two = two_threads();
    let across = queued_before_waiting(&two);
    two.terminate();
    assert!(bounds.contains(&across), "{across}");
}

#[test]
fn a_connecter_joins_again_after_the_binder_comes_back() {
    let context = two_threads();
    let first = socket(&context, SocketType::Pull, SocketOptions::default());
    let push = socket(&context, SocketType::Push, SocketOptions::default());
    block_on(first.bind("inproc://again")).unwrap();
    block_on(push.connect("inproc://again")).unwrap();
    push.send_blocking("to the first", Some(LIMIT)).unwrap();
    assert_eq!(
        &first.recv_blocking(Some(LIMIT)).unwrap()[0][..],
        b"to the first"
    );
    block_on(first.unbind("inproc://again")).unwrap();
    // Made third: on the first socket's thread, across from the PUSH again.
    let second = socket(&context, SocketType::Pull, SocketOptions::default());
    block_on(second.bind("inproc://again")).unwrap();
    push.send_blocking("to the second", Some(LIMIT)).unwrap();
    assert_eq!(
        &second.recv_blocking(Some(LIMIT)).unwrap()[0][..],
        b"to the second"
    );
    context.terminate();
}

#[test]
fn a_name_is_the_contexts_not_the_threads() {
    let context = two_threads();
    let first = socket(&context, SocketType::Pull, SocketOptions::default());
    let second = socket(&context, SocketType::Pull, SocketOptions::default());
    block_on(first.bind("inproc://taken")).unwrap();
    let err = block_on(second.bind("inproc://taken")).unwrap_err();
    assert!(matches!(err, Error::Io(ref e) if e.kind() == std::io::ErrorKind::AddrInUse));
    // Another context has names of its own.
    let other = Context::new().unwrap();
    let elsewhere = socket(&other, SocketType::Pull, SocketOptions::default());
    block_on(elsewhere.bind("inproc://taken")).unwrap();
    other.terminate();
    context.terminate();
}

/// A native socket made with `in_context` joins the context's handles over inproc,
/// whichever side binds.
#[compio::test]
async fn a_native_socket_in_a_context_joins_its_handles() {
    use monocoque_zmtp::socket::{PullSocket, PushSocket};
    let context = Context::new().unwrap();
    let pull = context.socket(SocketType::Pull).unwrap();
    pull.bind("inproc://to-handle").await.unwrap();
    let push = PushSocket::in_context(&context, SocketOptions::default());
    push.connect("inproc://to-handle").await.unwrap();
    push.send("from native").await.unwrap();
    assert_eq!(&pull.recv().await.unwrap()[0][..], b"from native");

    let native_pull = PullSocket::in_context(&context, SocketOptions::default());
    native_pull.bind("inproc://to-native").await.unwrap();
    let handle_push = context.socket(SocketType::Push).unwrap();
    handle_push.connect("inproc://to-native").await.unwrap();
    handle_push.send("from handle").await.unwrap();
    assert_eq!(&native_pull.recv().await.unwrap()[0][..], b"from handle");
    // A native socket outside the context does not see the context's names.
    let outside = PullSocket::new();
    outside.bind("inproc://to-handle").await.unwrap();
    context.terminate();
}
