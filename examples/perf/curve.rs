//! The options the perf tools' flags set: buffer sizes (`--buffers`), and CURVE
//! (`--curve`, also used by the handshake tools), with the test key
//! pairs documented in libzmq's `zmq_curve(7)` man page; the C tools in `perf-curve/`
//! use the same keys, so either side pairs with either. The binding side is the
//! server, the connecting side the client. No authenticator: the server accepts any
//! client, as libzmq's does without a ZAP handler.
#![allow(dead_code)]

use monocoque::security::{PublicKey, SecretKey};
use monocoque::{BufferConfig, SocketOptions};

use crate::common;

pub const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
pub const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
pub const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
pub const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

fn public(z85: &str) -> PublicKey {
    PublicKey::parse(z85).unwrap_or_else(|e| common::fail(format!("key {z85}: {e}")))
}

fn secret(z85: &str) -> SecretKey {
    SecretKey::parse(z85).unwrap_or_else(|e| common::fail(format!("secret key: {e}")))
}

/// `options` as a CURVE server with the test server key pair.
pub fn server(options: SocketOptions) -> SocketOptions {
    options
        .curve_server(true)
        .curve_publickey(public(SERVER_PUBLIC))
        .curve_secretkey(secret(SERVER_SECRET))
}

/// `options` as a CURVE client of the test server, with the test client key pair.
pub fn client(options: SocketOptions) -> SocketOptions {
    options
        .curve_serverkey(public(SERVER_PUBLIC))
        .curve_publickey(public(CLIENT_PUBLIC))
        .curve_secretkey(secret(CLIENT_SECRET))
}

/// `options` with the buffer sizes `--buffers` names, if any.
fn with_buffers(options: SocketOptions) -> SocketOptions {
    let Some(value) = common::buffers() else {
        return options;
    };
    let buffers = match value.as_str() {
        "small" => BufferConfig::small(),
        "large" => BufferConfig::large(),
        "default" => BufferConfig::default(),
        custom => {
            let sizes = custom
                .split_once(':')
                .and_then(|(r, w)| Some((r.parse().ok()?, w.parse().ok()?)));
            let (read, write) =
                sizes.unwrap_or_else(|| common::fail(format!("--buffers {custom:?}")));
            BufferConfig::custom(read, write)
        }
    };
    options.buffers(buffers)
}

/// The options of a socket that binds: `--buffers`, and a CURVE server with `--curve`.
pub fn binding(options: SocketOptions) -> SocketOptions {
    let options = with_buffers(options);
    if common::curve() {
        server(options)
    } else {
        options
    }
}

/// The options of a socket that connects: `--buffers`, and a CURVE client with
/// `--curve`.
pub fn connecting(options: SocketOptions) -> SocketOptions {
    let options = with_buffers(options);
    if common::curve() {
        client(options)
    } else {
        options
    }
}
