//! Socket handles from a `Context`: used from tokio's multi-thread runtime, from
//! `futures::executor`, from plain threads with blocking calls; cancel safety across
//! the hop to the I/O thread; context termination with sockets still open.

use std::collections::HashMap;
use std::time::Duration;

use monocoque_zmtp::config::SocketOptions;
use monocoque_zmtp::error::Error;
use monocoque_zmtp::proto::message::Message;
use monocoque_zmtp::proto::socket_type::SocketType;
use monocoque_zmtp::socket::{Context, SocketHandle, proxy_blocking, proxy_steerable};

/// Long enough for anything here to happen on a loaded machine; a guard against
/// hanging, not a measure.
const LIMIT: Duration = Duration::from_secs(20);

fn pair(
    context: &Context,
    sender: SocketType,
    receiver: SocketType,
) -> (SocketHandle, SocketHandle) {
    let receive = context.socket(receiver).unwrap();
    let send = context.socket(sender).unwrap();
    futures::executor::block_on(async {
        let endpoint = receive.bind("tcp://127.0.0.1:0").await.unwrap();
        send.connect(&endpoint).await.unwrap();
    });
    (send, receive)
}

fn text(message: &Message) -> String {
    String::from_utf8_lossy(&message[0]).into_owned()
}

#[test]
fn handles_and_their_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let context = Context::new().unwrap();
    let handle = context.socket(SocketType::Dealer).unwrap();
    send_sync(&handle);
    send_sync(&context);
    send(&handle.send("x"));
    send(&handle.recv());
    send(&handle.bind("tcp://127.0.0.1:0"));
    context.terminate();
}

/// Several tokio tasks send on clones of one PUSH handle; one task receives. Every
/// message arrives once, and each sender's messages in the order sent.
#[test]
fn tokio_tasks_share_one_push_handle() {
    const TASKS: u64 = 4;
    const EACH: u64 = 5_000;
    let context = Context::new().unwrap();
    let (push, pull) = pair(&context, SocketType::Push, SocketType::Pull);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let receiver = tokio::spawn(async move {
            let mut next: HashMap<u64, u64> = HashMap::new();
            for _ in 0..TASKS * EACH {
                let message = pull.recv().await.unwrap();
                let (task, n) = text(&message)
                    .split_once(':')
                    .map(|(t, n)| (t.parse::<u64>().unwrap(), n.parse::<u64>().unwrap()))
                    .unwrap();
                let expected = next.entry(task).or_default();
                assert_eq!(n, *expected, "task {task}'s messages in order");
                *expected += 1;
            }
            next
        });
        let senders: Vec<_> = (0..TASKS)
            .map(|task| {
                let push = push.clone();
                tokio::spawn(async move {
                    for n in 0..EACH {
                        push.send(format!("{task}:{n}")).await.unwrap();
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.unwrap();
        }
        let counts = tokio::time::timeout(LIMIT, receiver)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(counts.len() as u64, TASKS);
        assert!(counts.values().all(|&n| n == EACH));
    });
    context.terminate();
}

/// REQ/REP through handles on `futures::executor`: the state rules of the native
/// sockets hold (a REQ cannot receive before it sent, a REP cannot reply before it
/// received).
#[test]
fn req_rep_under_futures_executor() {
    let context = Context::new().unwrap();
    let (req, rep) = pair(&context, SocketType::Req, SocketType::Rep);
    futures::executor::block_on(async {
        assert!(matches!(req.recv().await, Err(Error::InvalidState(_))));
        assert!(matches!(
            rep.send("early").await,
            Err(Error::InvalidState(_))
        ));
        for i in 0..100 {
            req.send(format!("ping {i}")).await.unwrap();
            assert!(matches!(
                req.send("twice").await,
                Err(Error::InvalidState(_))
            ));
            let request = rep.recv().await.unwrap();
            assert_eq!(text(&request), format!("ping {i}"));
            rep.send(format!("pong {i}")).await.unwrap();
            assert_eq!(text(&req.recv().await.unwrap()), format!("pong {i}"));
        }
    });
    context.terminate();
}

/// Blocking calls from plain threads, with and without a timeout.
#[test]
fn blocking_calls_from_plain_threads() {
    let context = Context::new().unwrap();
    let (dealer, router) = pair(&context, SocketType::Dealer, SocketType::Router);
    assert!(matches!(
        router.recv_blocking(Some(Duration::from_millis(20))),
        Err(Error::TimedOut)
    ));
    let worker = std::thread::spawn(move || {
        for i in 0..100 {
            dealer.send_blocking(format!("{i}"), None).unwrap();
            let reply = dealer.recv_blocking(Some(LIMIT)).unwrap();
            assert_eq!(text(&reply), format!("re {i}"));
        }
    });
    for i in 0..100 {
        let message = router.recv_blocking(Some(LIMIT)).unwrap();
        assert_eq!(text(&Message::from(message[1].clone())), format!("{i}"));
        let reply = Message::from([message[0].clone(), format!("re {i}").into()]);
        router.send_blocking(reply, None).unwrap();
    }
    worker.join().unwrap();
    assert!(router.try_recv().unwrap().is_none(), "nothing left over");
    context.terminate();
}

/// 8 threads x 100,000 messages through one cloned PUSH handle: every message
/// arrives once, each thread's in order.
#[test]
fn eight_threads_through_one_cloned_push_handle() {
    const THREADS: u64 = 8;
    const EACH: u64 = 100_000;
    let context = Context::new().unwrap();
    let (push, pull) = pair(&context, SocketType::Push, SocketType::Pull);
    let senders: Vec<_> = (0..THREADS)
        .map(|thread| {
            let push = push.clone();
            std::thread::spawn(move || {
                for n in 0..EACH {
                    let mut body = [0u8; 16];
                    body[..8].copy_from_slice(&thread.to_le_bytes());
                    body[8..].copy_from_slice(&n.to_le_bytes());
                    push.send_blocking(body.to_vec(), None).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0u64; THREADS as usize];
    for _ in 0..THREADS * EACH {
        let message = pull.recv_blocking(Some(LIMIT)).unwrap();
        let body = &message[0];
        let thread = u64::from_le_bytes(body[..8].try_into().unwrap()) as usize;
        let n = u64::from_le_bytes(body[8..16].try_into().unwrap());
        assert_eq!(n, next[thread], "thread {thread}'s messages in order");
        next[thread] += 1;
    }
    for sender in senders {
        sender.join().unwrap();
    }
    assert!(next.iter().all(|&n| n == EACH));
    context.terminate();
}

/// A PUSH and a PULL connected over tcp, both high-water marks `hwm`, on a context
/// with two I/O threads, and a two-worker tokio runtime to drive them.
fn push_pull_under_tokio(
    hwm: usize,
) -> (Context, SocketHandle, SocketHandle, tokio::runtime::Runtime) {
    let context = Context::builder().io_threads(2).build().unwrap();
    let options = SocketOptions::default().sndhwm(hwm).rcvhwm(hwm);
    let pull = context
        .socket_with_options(SocketType::Pull, options.clone())
        .unwrap();
    let push = context
        .socket_with_options(SocketType::Push, options)
        .unwrap();
    futures::executor::block_on(async {
        let endpoint = pull.bind("tcp://127.0.0.1:0").await.unwrap();
        push.connect(&endpoint).await.unwrap();
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    (context, push, pull, runtime)
}

/// Futures dropped at random points on both sides: nothing is lost or received
/// twice. A send dropped before it completed queued nothing and is sent again.
#[test]
fn cancelled_sends_and_receives_lose_and_duplicate_nothing() {
    const COUNT: u64 = 20_000;
    let (context, push, pull, runtime) = push_pull_under_tokio(8);
    let cancelled = runtime.block_on(async {
        let sender = tokio::spawn(async move {
            let mut cancelled = 0u64;
            let mut n = 0;
            while n < COUNT {
                let send = push.send(n.to_le_bytes().to_vec());
                tokio::select! {
                    biased;
                    () = tokio::task::yield_now() => cancelled += 1,
                    sent = send => { sent.unwrap(); n += 1; }
                }
            }
            cancelled
        });
        let mut cancelled = 0u64;
        let mut expected = 0u64;
        while expected < COUNT {
            tokio::select! {
                biased;
                () = tokio::task::yield_now() => cancelled += 1,
                received = pull.recv() => {
                    let message = received.unwrap();
                    let n = u64::from_le_bytes(message[0][..].try_into().unwrap());
                    assert_eq!(n, expected, "every message once, in order");
                    expected += 1;
                }
            }
        }
        cancelled + tokio::time::timeout(LIMIT, sender).await.unwrap().unwrap()
    });
    assert!(cancelled > 0, "some futures were dropped before completing");
    context.terminate();
}

/// Streams taken and dropped at random points while messages keep arriving, with
/// `recv` calls between them: what each stream held and did not hand out goes back
/// ahead of what arrived since, so every message comes once, in order.
#[test]
fn streams_dropped_while_messages_arrive_lose_and_reorder_nothing() {
    use futures::StreamExt;
    const COUNT: u64 = 20_000;
    let (context, push, pull, runtime) = push_pull_under_tokio(16);
    runtime.block_on(async {
        let sender = tokio::spawn(async move {
            for n in 0..COUNT {
                push.send(n.to_le_bytes().to_vec()).await.unwrap();
            }
        });
        let number = |message: Message| u64::from_le_bytes(message[0][..].try_into().unwrap());
        let mut expected = 0u64;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        while expected < COUNT {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let take = (seed >> 59) + 1; // 1 to 32
            if take.is_multiple_of(4) {
                assert_eq!(number(pull.recv().await.unwrap()), expected);
                expected += 1;
                continue;
            }
            let mut stream = pull.stream();
            for _ in 0..take.min(COUNT - expected) {
                let message = stream.next().await.unwrap().unwrap();
                assert_eq!(number(message), expected, "every message once, in order");
                expected += 1;
            }
        }
        tokio::time::timeout(LIMIT, sender).await.unwrap().unwrap();
    });
    context.terminate();
}

/// A ROUTER handle with `router_mandatory` waits for the socket's verdict on each
/// send: sends queued together get each their own, refusals to unknown peers and
/// deliveries to a known one, in the order sent.
#[test]
fn router_mandatory_verdicts_reach_the_sends_they_belong_to() {
    let context = Context::new().unwrap();
    let options = SocketOptions::default().router_mandatory(true);
    let router = context
        .socket_with_options(SocketType::Router, options)
        .unwrap();
    let dealer = context.socket(SocketType::Dealer).unwrap();
    futures::executor::block_on(async {
        let endpoint = router.bind("tcp://127.0.0.1:0").await.unwrap();
        dealer.connect(&endpoint).await.unwrap();
        dealer.send("hello").await.unwrap();
        let id = router.recv_blocking(Some(LIMIT)).unwrap()[0].clone();
        let sends = [
            Message::from(["ghost-1", "lost"]),
            Message::from([id.clone(), "one".into()]),
            Message::from(["ghost-2", "lost"]),
            Message::from([id.clone(), "two".into()]),
        ];
        let verdicts = futures::future::join_all(sends.map(|m| router.send(m))).await;
        let refused: Vec<Option<String>> = verdicts
            .into_iter()
            .map(|verdict| match verdict {
                Ok(()) => None,
                Err(Error::HostUnreachable(id)) => Some(String::from_utf8_lossy(&id).into()),
                Err(other) => panic!("unexpected {other:?}"),
            })
            .collect();
        let expected = [Some("ghost-1"), None, Some("ghost-2"), None];
        assert_eq!(refused, expected.map(|r| r.map(String::from)));
        for body in ["one", "two"] {
            assert_eq!(text(&dealer.recv_blocking(Some(LIMIT)).unwrap()), body);
        }
    });
    context.terminate();
}

/// A dropped handle's queued messages still go out (within linger, here unlimited)
/// after the sender's context is told to terminate; `terminate` waits for that.
#[test]
fn terminate_waits_for_queued_messages_of_dropped_handles() {
    const COUNT: usize = 1_000;
    let receiving = Context::new().unwrap();
    let pull = receiving.socket(SocketType::Pull).unwrap();
    let endpoint = futures::executor::block_on(pull.bind("tcp://127.0.0.1:0")).unwrap();
    let sending = Context::new().unwrap();
    let push = sending.socket(SocketType::Push).unwrap();
    futures::executor::block_on(async {
        push.connect(&endpoint).await.unwrap();
        for i in 0..COUNT {
            push.send(format!("{i}")).await.unwrap();
        }
    });
    drop(push);
    sending.terminate();
    for i in 0..COUNT {
        let message = pull.recv_blocking(Some(LIMIT)).unwrap();
        assert_eq!(text(&message), format!("{i}"));
    }
    receiving.terminate();
}

/// `close` returns at once even with a message queued for a peer that is not
/// there; terminating with a zero linger then drops it and returns.
#[test]
fn close_never_blocks_and_terminate_honours_linger() {
    let context = Context::new().unwrap();
    let options = SocketOptions::default().linger(Some(Duration::ZERO));
    let push = context
        .socket_with_options(SocketType::Push, options)
        .unwrap();
    let other = push.clone();
    futures::executor::block_on(async {
        // A port nobody listens on: the connection keeps retrying.
        push.connect("tcp://127.0.0.1:1").await.unwrap();
        push.send("never delivered").await.unwrap();
    });
    push.close();
    assert!(matches!(
        futures::executor::block_on(other.send("after close")),
        Err(Error::Closed)
    ));
    context.terminate();
}

/// Sockets still open when their context is terminated are closed; their handles
/// then fail with `Closed` instead of hanging.
#[test]
fn terminate_closes_sockets_still_open() {
    let context = Context::new().unwrap();
    let keep = context.clone();
    let (dealer, router) = pair(&context, SocketType::Dealer, SocketType::Router);
    context.terminate();
    assert!(matches!(
        dealer.send_blocking("late", None),
        Err(Error::Closed)
    ));
    assert!(matches!(
        router.recv_blocking(Some(LIMIT)),
        Err(Error::Closed)
    ));
    assert!(matches!(keep.socket(SocketType::Pull), Err(Error::Closed)));
}

/// The process-wide context works from several threads.
#[test]
fn the_global_context_serves_any_thread() {
    let context = Context::global().unwrap();
    let (push, pull) = pair(context, SocketType::Push, SocketType::Pull);
    std::thread::spawn(move || push.send_blocking("from a thread", None).unwrap())
        .join()
        .unwrap();
    assert_eq!(
        text(&pull.recv_blocking(Some(LIMIT)).unwrap()),
        "from a thread"
    );
}

/// The guide's request-reply broker: REQ clients → ROUTER frontend → proxy → DEALER
/// backend → REP workers, the proxy blocking on its own thread until the context
/// ends and closes its sockets.
#[test]
fn a_proxy_between_router_and_dealer_serves_req_clients_and_rep_workers() {
    let context = Context::new().unwrap();
    let frontend = context.socket(SocketType::Router).unwrap();
    let backend = context.socket(SocketType::Dealer).unwrap();
    let (front, back) = futures::executor::block_on(async {
        (
            frontend.bind("tcp://127.0.0.1:0").await.unwrap(),
            backend.bind("tcp://127.0.0.1:0").await.unwrap(),
        )
    });
    let broker = std::thread::spawn(move || proxy_blocking(&frontend, &backend, None));
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let rep = context.socket(SocketType::Rep).unwrap();
            futures::executor::block_on(rep.connect(&back)).unwrap();
            std::thread::spawn(move || {
                while let Ok(request) = rep.recv_blocking(None) {
                    let reply = format!("{} by {w}", text(&request));
                    if rep.send_blocking(reply, None).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    let clients: Vec<_> = (0..3)
        .map(|c| {
            let req = context.socket(SocketType::Req).unwrap();
            futures::executor::block_on(req.connect(&front)).unwrap();
            std::thread::spawn(move || {
                for i in 0..50 {
                    req.send_blocking(format!("{c}.{i}"), None).unwrap();
                    let reply = text(&req.recv_blocking(Some(LIMIT)).unwrap());
                    assert!(reply.starts_with(&format!("{c}.{i} by ")), "{reply}");
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    context.terminate();
    assert!(matches!(broker.join().unwrap(), Err(Error::Closed)));
    for worker in workers {
        worker.join().unwrap();
    }
}

/// `proxy_steerable`: PAUSE holds messages back, RESUME lets them through in order,
/// STATISTICS answers with the counts, TERMINATE ends the proxy with them.
#[test]
fn a_steerable_proxy_pauses_resumes_reports_and_terminates() {
    const COUNT: u64 = 20;
    let context = Context::new().unwrap();
    let frontend = context.socket(SocketType::Pull).unwrap();
    let backend = context.socket(SocketType::Push).unwrap();
    let control = context.socket(SocketType::Pair).unwrap();
    let steer = context.socket(SocketType::Pair).unwrap();
    let source = context.socket(SocketType::Push).unwrap();
    let sink = context.socket(SocketType::Pull).unwrap();
    futures::executor::block_on(async {
        let endpoint = frontend.bind("tcp://127.0.0.1:0").await.unwrap();
        source.connect(&endpoint).await.unwrap();
        let endpoint = backend.bind("tcp://127.0.0.1:0").await.unwrap();
        sink.connect(&endpoint).await.unwrap();
        let endpoint = control.bind("tcp://127.0.0.1:0").await.unwrap();
        steer.connect(&endpoint).await.unwrap();
    });
    let proxy = std::thread::spawn(move || {
        futures::executor::block_on(proxy_steerable(&frontend, &backend, None, &control))
    });
    let statistics = |steer: &SocketHandle| {
        steer.send_blocking("STATISTICS", None).unwrap();
        let reply = steer.recv_blocking(Some(LIMIT)).unwrap();
        assert_eq!(reply.len(), 8, "eight counts");
        reply
            .iter()
            .map(|f| u64::from_ne_bytes(f[..].try_into().unwrap()))
            .collect::<Vec<u64>>()
    };
    steer.send_blocking("PAUSE", None).unwrap();
    assert_eq!(
        statistics(&steer),
        [0; 8],
        "PAUSE taken, nothing forwarded yet"
    );
    for i in 0..COUNT {
        source.send_blocking(format!("{i:02}"), None).unwrap();
    }
    assert_eq!(
        statistics(&steer)[0],
        0,
        "paused: nothing taken from the frontend"
    );
    assert!(sink.try_recv().unwrap().is_none());
    steer.send_blocking("RESUME", None).unwrap();
    for i in 0..COUNT {
        assert_eq!(
            text(&sink.recv_blocking(Some(LIMIT)).unwrap()),
            format!("{i:02}")
        );
    }
    let counts = statistics(&steer);
    assert_eq!(counts, [COUNT, 2 * COUNT, 0, 0, 0, 0, COUNT, 2 * COUNT]);
    steer.send_blocking("TERMINATE", None).unwrap();
    let stats = proxy.join().unwrap().unwrap();
    assert_eq!((stats.frontend_in, stats.backend_out), (COUNT, COUNT));
    context.terminate();
}

/// A thread that panics while it holds handles and their context unwinds normally:
/// closing the sockets on the way must not abort the process (compio aborts when a
/// panicking thread wakes one of its tasks, so that work moves to another thread).
#[test]
#[should_panic(expected = "the caller's own panic")]
fn a_panic_with_live_handles_unwinds_instead_of_aborting() {
    let context = Context::new().unwrap();
    let pull = context.socket(SocketType::Pull).unwrap();
    futures::executor::block_on(pull.bind("tcp://127.0.0.1:0")).unwrap();
    panic!("the caller's own panic");
}

/// inproc between handles made on different threads: connect before bind, as
/// libzmq allows, and messages both ways.
#[test]
fn inproc_joins_handles_made_on_different_threads() {
    let context = Context::new().unwrap();
    let connecting = context.clone();
    let early = std::thread::spawn(move || {
        let pair = connecting.socket(SocketType::Pair).unwrap();
        futures::executor::block_on(pair.connect("inproc://across-threads")).unwrap();
        pair.send_blocking("connected first", None).unwrap();
        assert_eq!(
            text(&pair.recv_blocking(Some(LIMIT)).unwrap()),
            "bound later"
        );
    });
    let binding = context.clone();
    std::thread::spawn(move || {
        let pair = binding.socket(SocketType::Pair).unwrap();
        futures::executor::block_on(pair.bind("inproc://across-threads")).unwrap();
        assert_eq!(
            text(&pair.recv_blocking(Some(LIMIT)).unwrap()),
            "connected first"
        );
        pair.send_blocking("bound later", None).unwrap();
    })
    .join()
    .unwrap();
    early.join().unwrap();
    context.terminate();
}

/// REQ and REP through handles keep their turns without waiting on the I/O thread:
/// the reply is read ahead, so `try_recv` finds it; and when the REP goes away, a
/// waiting REQ `recv` keeps waiting (as on a native REQ and in libzmq) and a new
/// request is refused.
#[test]
fn req_turns_survive_read_ahead_and_a_lost_peer() {
    let serving = Context::new().unwrap();
    let rep = serving.socket(SocketType::Rep).unwrap();
    let endpoint = futures::executor::block_on(rep.bind("tcp://127.0.0.1:0")).unwrap();
    let asking = Context::new().unwrap();
    // Zero linger: the last request has no peer left, and terminate must not wait.
    let options = SocketOptions::default().linger(Some(Duration::ZERO));
    let req = asking
        .socket_with_options(SocketType::Req, options)
        .unwrap();
    futures::executor::block_on(req.connect(&endpoint)).unwrap();

    req.send_blocking("first", None).unwrap();
    assert!(matches!(req.try_send("twice"), Err(Error::InvalidState(_))));
    let request = rep.recv_blocking(Some(LIMIT)).unwrap();
    rep.send_blocking(request, None).unwrap();
    // try_recv polls by nature: poll until the read-ahead reply is there.
    let deadline = std::time::Instant::now() + LIMIT;
    let reply = loop {
        if let Some(reply) = req.try_recv().unwrap() {
            break reply;
        }
        assert!(std::time::Instant::now() < deadline, "no reply read ahead");
        std::thread::yield_now();
    };
    assert_eq!(text(&reply), "first");

    req.send_blocking("unanswered", None).unwrap();
    rep.recv_blocking(Some(LIMIT)).unwrap();
    serving.terminate();
    assert!(matches!(
        req.recv_blocking(Some(Duration::from_millis(200))),
        Err(Error::TimedOut)
    ));
    assert!(matches!(req.try_send("again"), Err(Error::InvalidState(_))));
    asking.terminate();
}

/// Handles as a `futures::Sink` and `Stream` under tokio: a PUSH sink fed with
/// `send_all`, a PULL stream taken with `take`, and a receive timeout from tokio's own
/// timer around `next()`.
#[test]
fn handles_compose_as_sink_and_stream() {
    use futures::{SinkExt, StreamExt};
    let context = Context::new().unwrap();
    let (push, pull) = pair(&context, SocketType::Push, SocketType::Pull);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sender = tokio::spawn(async move {
            let mut sink = push.sink();
            let mut messages =
                futures::stream::iter((0..100).map(|i| Ok(Message::from(i.to_string()))));
            sink.send_all(&mut messages).await.unwrap();
            sink.close().await.unwrap();
        });
        let mut stream = pull.stream();
        let received: Vec<String> = (&mut stream)
            .take(100)
            .map(|m| text(&m.unwrap()))
            .collect()
            .await;
        let expected: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert_eq!(received, expected);
        sender.await.unwrap();
        let nothing = tokio::time::timeout(Duration::from_millis(50), stream.next()).await;
        assert!(nothing.is_err(), "a message arrived from nowhere");
    });
    context.terminate();
}

/// A handle's stream ends when the socket is closed.
#[test]
fn a_stream_ends_when_its_socket_closes() {
    use futures::StreamExt;
    let context = Context::new().unwrap();
    let pull = context.socket(SocketType::Pull).unwrap();
    let stream = pull.stream();
    pull.close();
    let items: Vec<_> = futures::executor::block_on(stream.collect());
    assert!(items.is_empty(), "{items:?}");
    context.terminate();
}

/// A stream hands out messages from batches it takes at once; a stream dropped while
/// it still holds some gives them back, in order, to the socket's next receiver.
#[test]
fn a_dropped_stream_gives_back_what_it_holds() {
    use futures::{Stream, StreamExt};
    let context = Context::new().unwrap();
    let (push, pull) = pair(&context, SocketType::Push, SocketType::Pull);
    const COUNT: usize = 500;
    futures::executor::block_on(async {
        for i in 0..COUNT {
            push.send(i.to_string()).await.unwrap();
        }
        let mut next = 0;
        let mut gave_back = 0;
        // One message per stream, then the stream goes: whatever else it took must
        // come to the next stream, and next from `recv` once half are through.
        while next < COUNT / 2 {
            let mut stream = pull.stream();
            assert_eq!(
                text(&stream.next().await.unwrap().unwrap()),
                next.to_string()
            );
            next += 1;
            if stream.size_hint().0 > 0 {
                gave_back += 1;
            }
        }
        while next < COUNT {
            assert_eq!(text(&pull.recv().await.unwrap()), next.to_string());
            next += 1;
        }
        assert!(
            gave_back > 0,
            "no stream ever held more than the message it handed out"
        );
    });
    context.terminate();
}

/// A REP handle's stream takes one request at a time: the reply goes between.
#[test]
fn a_rep_stream_alternates_with_replies() {
    use futures::{Stream, StreamExt};
    let context = Context::new().unwrap();
    let (req, rep) = pair(&context, SocketType::Req, SocketType::Rep);
    futures::executor::block_on(async {
        let mut requests = rep.stream();
        for i in 0..20 {
            req.send(format!("q{i}")).await.unwrap();
            let request = requests.next().await.unwrap().unwrap();
            assert_eq!(text(&request), format!("q{i}"));
            assert_eq!(requests.size_hint().0, 0);
            rep.send(format!("a{i}")).await.unwrap();
            assert_eq!(text(&req.recv().await.unwrap()), format!("a{i}"));
        }
    });
    context.terminate();
}
