//! ZAP (RFC 27): the questions a server-side mechanism asks an authentication handler,
//! and the handler's answers.
//!
//! A session asks with [`Event::Authenticate`](crate::proto::session::Event) and goes
//! on when its driver calls
//! [`Session::handle_zap_answer`](crate::proto::session::Session::handle_zap_answer).
//! The answer comes from a built-in [`Authenticator`](crate::proto::auth::Authenticator)
//! or from a handler speaking RFC 27's frames, which [`ZapRequest::to_frames`] and
//! [`ZapReply::from_frames`] encode and check.

use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::proto::command::Metadata;
use crate::proto::greeting::MechanismName;

/// The protocol version of every ZAP request and reply.
pub const ZAP_VERSION: &[u8] = b"1.0";

/// The endpoint a ZAP handler binds (`inproc://zeromq.zap.01`).
pub const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// A request for a decision about one connecting peer.
#[derive(Clone, PartialEq, Eq)]
pub struct ZapRequest {
    /// Identifies this request in the reply.
    pub request_id: Bytes,
    /// The server socket's `ZMQ_ZAP_DOMAIN` (empty when unset).
    pub domain: Bytes,
    /// The peer's address (an IP address for tcp; empty for ipc and inproc).
    pub address: Bytes,
    /// The server socket's own routing id (empty when unset).
    pub routing_id: Bytes,
    /// The mechanism: NULL, PLAIN or CURVE.
    pub mechanism: MechanismName,
    /// The peer's credentials: none for NULL, user name and password for PLAIN, the
    /// client's 32-byte long-term public key for CURVE.
    pub credentials: Vec<Bytes>,
}

impl fmt::Debug for ZapRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A PLAIN password is the second credential: never print it.
        let shown: Vec<String> = if self.mechanism == MechanismName::PLAIN {
            let user = self.credentials.first().map(|c| String::from_utf8_lossy(c));
            user.into_iter().map(|u| u.into_owned()).collect()
        } else {
            let z85 = |c: &Bytes| crate::proto::z85::encode(c).unwrap_or_default();
            self.credentials.iter().map(z85).collect()
        };
        f.debug_struct("ZapRequest")
            .field("request_id", &self.request_id)
            .field("domain", &self.domain)
            .field("address", &self.address)
            .field("mechanism", &self.mechanism)
            .field("credentials", &shown)
            .finish_non_exhaustive()
    }
}

impl ZapRequest {
    /// A request with request id "1" and no address (the driver fills it in).
    pub fn new(
        domain: Bytes,
        routing_id: Bytes,
        mechanism: MechanismName,
        credentials: Vec<Bytes>,
    ) -> Self {
        ZapRequest {
            request_id: Bytes::from_static(b"1"),
            domain,
            address: Bytes::new(),
            routing_id,
            mechanism,
            credentials,
        }
    }

    /// The PLAIN user name, if this is a PLAIN request.
    pub fn username(&self) -> Option<&[u8]> {
        (self.mechanism == MechanismName::PLAIN)
            .then(|| self.credentials.first().map(|c| &c[..]))
            .flatten()
    }

    /// The PLAIN password, if this is a PLAIN request.
    pub fn password(&self) -> Option<&[u8]> {
        (self.mechanism == MechanismName::PLAIN)
            .then(|| self.credentials.get(1).map(|c| &c[..]))
            .flatten()
    }

    /// The CURVE client's long-term public key, if this is a CURVE request.
    pub fn curve_key(&self) -> Option<[u8; 32]> {
        (self.mechanism == MechanismName::CURVE)
            .then(|| {
                self.credentials
                    .first()
                    .and_then(|c| <[u8; 32]>::try_from(&c[..]).ok())
            })
            .flatten()
    }

    /// The request as RFC 27 frames (after the empty delimiter a REQ adds): version,
    /// request id, domain, address, routing id, mechanism, credentials.
    pub fn to_frames(&self) -> Vec<Bytes> {
        let mut frames = vec![
            Bytes::from_static(ZAP_VERSION),
            self.request_id.clone(),
            self.domain.clone(),
            self.address.clone(),
            self.routing_id.clone(),
            Bytes::copy_from_slice(self.mechanism.as_bytes()),
        ];
        frames.extend(self.credentials.iter().cloned());
        frames
    }
}

/// A ZAP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ZapStatus {
    /// 200: the peer is accepted.
    Success,
    /// 300: temporary failure: the peer is disconnected without an ERROR.
    TemporaryError,
    /// 400: the credentials are refused: the peer gets ERROR "400".
    AuthenticationFailure,
    /// 500: the handler failed: the peer gets ERROR "500".
    InternalError,
}

impl ZapStatus {
    /// The three-digit code.
    pub fn code(self) -> u16 {
        match self {
            ZapStatus::Success => 200,
            ZapStatus::TemporaryError => 300,
            ZapStatus::AuthenticationFailure => 400,
            ZapStatus::InternalError => 500,
        }
    }

    /// The status of a three-digit code, if it is one of RFC 27's four.
    pub fn from_code(code: &[u8]) -> Option<Self> {
        match code {
            b"200" => Some(ZapStatus::Success),
            b"300" => Some(ZapStatus::TemporaryError),
            b"400" => Some(ZapStatus::AuthenticationFailure),
            b"500" => Some(ZapStatus::InternalError),
            _ => None,
        }
    }
}

/// A handler's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZapReply {
    /// The id of the request answered.
    pub request_id: Bytes,
    /// The decision.
    pub status: ZapStatus,
    /// Free text explaining the status.
    pub status_text: Bytes,
    /// Who the peer is: becomes the connection's `User-Id` property.
    pub user_id: Bytes,
    /// Properties added to the connection's metadata.
    pub metadata: Metadata,
}

impl ZapReply {
    /// A reply to `request` with `status` and nothing else.
    pub fn new(request: &ZapRequest, status: ZapStatus) -> Self {
        ZapReply {
            request_id: request.request_id.clone(),
            status,
            status_text: Bytes::new(),
            user_id: Bytes::new(),
            metadata: Metadata::new(),
        }
    }

    /// Sets the user id.
    pub fn with_user_id(mut self, user_id: impl Into<Bytes>) -> Self {
        self.user_id = user_id.into();
        self
    }

    /// The reply as RFC 27 frames (after the envelope).
    pub fn to_frames(&self) -> Vec<Bytes> {
        let mut metadata = BytesMut::new();
        self.metadata.encode(&mut metadata);
        vec![
            Bytes::from_static(ZAP_VERSION),
            self.request_id.clone(),
            Bytes::from(self.status.code().to_string()),
            self.status_text.clone(),
            self.user_id.clone(),
            metadata.freeze(),
        ]
    }

    /// Reads and checks a handler's reply (the frames after the envelope) to the request
    /// `request_id`.
    ///
    /// # Errors
    /// [`ZapError`] when the reply breaks RFC 27: another frame count than 6, another
    /// version, another request id, a status other than 200/300/400/500, or malformed
    /// metadata.
    pub fn from_frames(frames: &[Bytes], request_id: &[u8]) -> Result<ZapReply, ZapError> {
        let [version, id, status, text, user_id, metadata] = frames else {
            return Err(ZapError::FrameCount(frames.len()));
        };
        if &version[..] != ZAP_VERSION {
            return Err(ZapError::Version);
        }
        if &id[..] != request_id {
            return Err(ZapError::RequestId);
        }
        let status = ZapStatus::from_code(status).ok_or(ZapError::Status)?;
        let metadata =
            Metadata::decode(metadata.clone(), "ZAP reply").map_err(|_| ZapError::Metadata)?;
        Ok(ZapReply {
            request_id: id.clone(),
            status,
            status_text: text.clone(),
            user_id: user_id.clone(),
            metadata,
        })
    }
}

/// What the driver learned when it asked for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZapAnswer {
    /// The handler replied.
    Reply(ZapReply),
    /// There is no handler: each mechanism does what libzmq does (NULL and CURVE accept
    /// unless `ZMQ_ZAP_ENFORCE_DOMAIN` is set, PLAIN fails).
    NoHandler,
    /// The handler's reply broke RFC 27: the handshake fails, without an ERROR.
    Malformed(ZapError),
}

/// How a handler's reply broke RFC 27.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZapError {
    /// A reply has exactly 6 frames after the envelope.
    #[error("ZAP reply has {0} frames, not 6")]
    FrameCount(usize),
    /// The version frame is not "1.0".
    #[error("ZAP reply has a version other than 1.0")]
    Version,
    /// The request id is not the request's.
    #[error("ZAP reply answers another request")]
    RequestId,
    /// The status is not 200, 300, 400 or 500.
    #[error("ZAP reply has an invalid status code")]
    Status,
    /// The metadata frame is not a property list.
    #[error("ZAP reply has malformed metadata")]
    Metadata,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ZapRequest {
        ZapRequest::new(
            Bytes::from_static(b"global"),
            Bytes::new(),
            MechanismName::PLAIN,
            vec![Bytes::from_static(b"admin"), Bytes::from_static(b"secret")],
        )
    }

    #[test]
    fn request_frames_follow_rfc27() {
        let frames = request().to_frames();
        let expect: [&[u8]; 8] = [
            b"1.0", b"1", b"global", b"", b"", b"PLAIN", b"admin", b"secret",
        ];
        assert_eq!(frames.len(), expect.len());
        for (frame, expect) in frames.iter().zip(expect) {
            assert_eq!(&frame[..], expect);
        }
    }

    #[test]
    fn passwords_are_not_printed() {
        let shown = format!("{:?}", request());
        assert!(shown.contains("admin"), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn replies_round_trip() {
        let reply = ZapReply::new(&request(), ZapStatus::Success).with_user_id("admin");
        let read = ZapReply::from_frames(&reply.to_frames(), b"1").unwrap();
        assert_eq!(read, reply);
    }

    #[test]
    fn bad_replies_are_refused() {
        let good = ZapReply::new(&request(), ZapStatus::AuthenticationFailure).to_frames();
        let with = |i: usize, value: &'static [u8]| {
            let mut frames = good.clone();
            frames[i] = Bytes::from_static(value);
            ZapReply::from_frames(&frames, b"1")
        };
        assert_eq!(with(0, b"2.0"), Err(ZapError::Version));
        assert_eq!(with(1, b"2"), Err(ZapError::RequestId));
        assert_eq!(with(2, b"201"), Err(ZapError::Status));
        assert_eq!(with(2, b"20"), Err(ZapError::Status));
        assert_eq!(with(5, b"\x00"), Err(ZapError::Metadata));
        let mut long = good.clone();
        long.push(Bytes::new());
        assert_eq!(
            ZapReply::from_frames(&long, b"1"),
            Err(ZapError::FrameCount(7))
        );
        assert_eq!(
            ZapReply::from_frames(&good[..5], b"1"),
            Err(ZapError::FrameCount(5))
        );
    }
}
