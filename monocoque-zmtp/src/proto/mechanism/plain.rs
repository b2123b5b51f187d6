//! PLAIN (RFC 24): the client sends a user name and password in clear text; the server
//! asks ZAP, then both exchange their properties.
//!
//! ```text
//! hello    = %d5 "HELLO" username password     ; each: one length octet, 0-255 octets
//! welcome  = %d7 "WELCOME"
//! initiate = %d8 "INITIATE" metadata
//! ready    = %d5 "READY" metadata
//! ```

use bytes::{Bytes, BytesMut};

use crate::proto::command::Metadata;
use crate::proto::error::ProtocolError;
use crate::proto::greeting::MechanismName;
use crate::proto::mechanism::null::send_ready;
use crate::proto::mechanism::{
    Established, Local, Password, Step, malformed, peer_error, put_command, strip_name, unexpected,
    zap_verdict,
};
use crate::proto::zap::ZapAnswer;

/// The client's side.
#[derive(Debug)]
pub(crate) struct Client {
    local: Local,
    initiated: bool,
}

impl Client {
    /// Sends HELLO with the credentials.
    pub fn start(
        local: Local,
        username: &[u8],
        password: &Password,
        out: &mut BytesMut,
    ) -> Result<Client, ProtocolError> {
        let (Ok(user_len), Ok(pass_len)) = (
            u8::try_from(username.len()),
            u8::try_from(password.as_bytes().len()),
        ) else {
            return Err(ProtocolError::InvalidOption(
                "PLAIN user name and password are at most 255 bytes each",
            ));
        };
        let parts: [&[u8]; 4] = [&[user_len], username, &[pass_len], password.as_bytes()];
        put_command(out, b"HELLO", &parts);
        Ok(Client {
            local,
            initiated: false,
        })
    }

    pub fn handle_command(
        &mut self,
        body: Bytes,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        if let Some(err) = peer_error(&body) {
            return Err(err);
        }
        if !self.initiated {
            match strip_name(&body, b"WELCOME") {
                Some(data) if data.is_empty() => {}
                Some(_) => return Err(malformed("WELCOME")),
                None => return Err(unexpected(&body, "while waiting for WELCOME")),
            }
            let mut data = BytesMut::new();
            self.local.metadata.encode(&mut data);
            put_command(out, b"INITIATE", &[&data]);
            self.initiated = true;
            return Ok(Step::Continue);
        }
        let data = strip_name(&body, b"READY")
            .ok_or_else(|| unexpected(&body, "while waiting for READY"))?;
        let metadata = Metadata::decode(data, "READY")?;
        Ok(Step::Done(Established::plain(metadata, None)))
    }
}

#[derive(Debug)]
enum ServerState {
    ExpectHello,
    WaitZap,
    ExpectInitiate { user_id: Option<Bytes> },
}

/// The server's side.
#[derive(Debug)]
pub(crate) struct Server {
    local: Local,
    state: ServerState,
}

impl Server {
    pub fn new(local: Local) -> Server {
        Server {
            local,
            state: ServerState::ExpectHello,
        }
    }

    pub fn handle_command(
        &mut self,
        body: Bytes,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        match &mut self.state {
            ServerState::ExpectHello => {
                let data = strip_name(&body, b"HELLO")
                    .ok_or_else(|| unexpected(&body, "while waiting for HELLO"))?;
                let (username, password) = parse_hello(&data).ok_or(malformed("HELLO"))?;
                self.state = ServerState::WaitZap;
                let request = self
                    .local
                    .zap_request(MechanismName::PLAIN, vec![username, password]);
                Ok(Step::Authenticate(request))
            }
            ServerState::WaitZap => Err(unexpected(&body, "while waiting for ZAP")),
            ServerState::ExpectInitiate { user_id } => {
                let data = strip_name(&body, b"INITIATE")
                    .ok_or_else(|| unexpected(&body, "while waiting for INITIATE"))?;
                let metadata = Metadata::decode(data, "INITIATE")?;
                send_ready(&self.local.metadata, out);
                Ok(Step::Done(Established::plain(metadata, user_id.take())))
            }
        }
    }

    pub fn handle_zap(
        &mut self,
        answer: ZapAnswer,
        out: &mut BytesMut,
    ) -> Result<Step, ProtocolError> {
        // libzmq: a PLAIN server without a ZAP handler accepts no one.
        let user_id = zap_verdict(answer, false)?;
        put_command(out, b"WELCOME", &[]);
        self.state = ServerState::ExpectInitiate { user_id };
        Ok(Step::Continue)
    }

    pub fn waits_for_zap(&self) -> bool {
        matches!(self.state, ServerState::WaitZap)
    }
}

/// Reads HELLO's data: two length-prefixed strings and nothing after them.
fn parse_hello(data: &Bytes) -> Option<(Bytes, Bytes)> {
    let user_len = usize::from(*data.first()?);
    let user_end = 1 + user_len;
    let pass_len = usize::from(*data.get(user_end)?);
    let pass_start = user_end + 1;
    (data.len() == pass_start + pass_len)
        .then(|| (data.slice(1..user_end), data.slice(pass_start..)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_is_two_strings_exactly() {
        let hello = Bytes::from_static(b"\x05admin\x06secret");
        let (user, pass) = parse_hello(&hello).unwrap();
        assert_eq!((&user[..], &pass[..]), (&b"admin"[..], &b"secret"[..]));
        assert!(parse_hello(&Bytes::from_static(b"\x05admin\x06secre")).is_none());
        assert!(parse_hello(&Bytes::from_static(b"\x05admin\x06secrets")).is_none());
        assert!(parse_hello(&Bytes::from_static(b"\x09admin")).is_none());
        assert!(parse_hello(&Bytes::new()).is_none());
        let empty = parse_hello(&Bytes::from_static(b"\x00\x00")).unwrap();
        assert!(empty.0.is_empty() && empty.1.is_empty());
    }
}
