//! NULL (RFC 23): both sides send READY with their properties; no credentials.
//!
//! With a ZAP domain (or `ZMQ_ZAP_ENFORCE_DOMAIN`) the peer is put to the handler before
//! our READY goes out, as libzmq does.

use bytes::{Bytes, BytesMut};

use crate::proto::command::Metadata;
use crate::proto::error::ProtocolError;
use crate::proto::greeting::MechanismName;
use crate::proto::mechanism::{
    Established, Local, Step, peer_error, put_command, strip_name, unexpected, zap_verdict,
};
use crate::proto::zap::ZapAnswer;

#[derive(Debug)]
enum State {
    WaitZap,
    ExpectReady { user_id: Option<Bytes> },
}

/// The NULL exchange.
#[derive(Debug)]
pub(crate) struct Null {
    local: Local,
    state: State,
}

impl Null {
    pub fn start(local: Local, out: &mut BytesMut) -> (Null, Step) {
        if local.zap_domain.is_empty() && !local.zap_enforce {
            send_ready(&local.metadata, out);
            let null = Null {
                local,
                state: State::ExpectReady { user_id: None },
            };
            return (null, Step::Continue);
        }
        let request = local.zap_request(MechanismName::NULL, Vec::new());
        let null = Null {
            local,
            state: State::WaitZap,
        };
        (null, Step::Authenticate(request))
    }

    pub fn handle_command(
        &mut self,
        body: Bytes,
        _out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        let State::ExpectReady { user_id } = &mut self.state else {
            return Err(unexpected(&body, "while waiting for ZAP"));
        };
        if let Some(data) = strip_name(&body, b"READY") {
            let metadata = Metadata::decode(data, "READY")?;
            return Ok(Step::Done(Established::plain(metadata, user_id.take())));
        }
        Err(peer_error(&body).unwrap_or_else(|| unexpected(&body, "during the NULL handshake")))
    }

    pub fn handle_zap(
        &mut self,
        answer: ZapAnswer,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        let user_id = zap_verdict(answer, !self.local.zap_enforce)?;
        send_ready(&self.local.metadata, out);
        self.state = State::ExpectReady { user_id };
        Ok(Step::Continue)
    }

    pub fn waits_for_zap(&self) -> bool {
        matches!(self.state, State::WaitZap)
    }
}

/// Writes a READY command with `metadata`.
pub(crate) fn send_ready(metadata: &Metadata, out: &mut BytesMut) {
    let mut data = BytesMut::with_capacity(metadata.encoded_len());
    metadata.encode(&mut data);
    put_command(out, b"READY", &[&data]);
}
