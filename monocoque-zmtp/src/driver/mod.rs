//! The only code that touches compio: accept, connect and reconnect, read → decode,
//! encode → write, timers.

pub(crate) mod connection;
pub(crate) mod inproc;
pub(crate) mod notify;
pub(crate) mod transport;
