//! The built-in authenticator: what pyzmq's `zmq.auth` offers, as a value set on a
//! server socket, answering its ZAP requests on the socket's own thread.
//!
//! ```
//! use monocoque_zmtp::proto::auth::Authenticator;
//!
//! let auth = Authenticator::new()
//!     .allow("127.0.0.1")
//!     .plain_user("admin", "secret")
//!     .curve_allow_any();
//! # let _ = auth;
//! ```
//!
//! Rules, in order: the callback, if set, decides when it returns an answer; an
//! address not on a non-empty allow list, or on the deny list, is refused; then NULL
//! is accepted, PLAIN needs a known user with the right password (the user name
//! becomes the user id), and CURVE needs an allowed public key (its Z85 text becomes
//! the user id) or `curve_allow_any`. Refusals are status 400.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::proto::greeting::MechanismName;
use crate::proto::mechanism::Password;
use crate::proto::zap::{ZapReply, ZapRequest, ZapStatus};

/// A custom decision: `Some` answers, `None` leaves the request to the other rules.
pub type AuthCallback = dyn Fn(&ZapRequest) -> Option<ZapReply> + Send + Sync;

#[derive(Clone, Default)]
struct Policy {
    allow: HashSet<Bytes>,
    deny: HashSet<Bytes>,
    plain_users: HashMap<Bytes, Password>,
    curve_keys: HashSet<[u8; 32]>,
    curve_any: bool,
    callback: Option<Arc<AuthCallback>>,
}

/// Decides ZAP requests for a server socket (set with `SocketOptions::authenticator`).
///
/// Cheap to clone and `Send + Sync`: clones share their rules.
#[derive(Clone, Default)]
pub struct Authenticator {
    policy: Arc<Policy>,
}

impl Authenticator {
    /// An authenticator that accepts NULL peers and refuses PLAIN and CURVE ones.
    pub fn new() -> Self {
        Self::default()
    }

    fn edit(mut self, change: impl FnOnce(&mut Policy)) -> Self {
        change(Arc::make_mut(&mut self.policy));
        self
    }

    /// Accepts peers from this address only (with the other allowed ones).
    pub fn allow(self, address: impl Into<String>) -> Self {
        let address = Bytes::from(address.into());
        self.edit(|p| {
            p.allow.insert(address);
        })
    }

    /// Refuses peers from this address.
    pub fn deny(self, address: impl Into<String>) -> Self {
        let address = Bytes::from(address.into());
        self.edit(|p| {
            p.deny.insert(address);
        })
    }

    /// Accepts a PLAIN user with this password.
    pub fn plain_user(self, username: impl Into<Bytes>, password: impl Into<Vec<u8>>) -> Self {
        let (username, password) = (username.into(), Password::new(password));
        self.edit(|p| {
            p.plain_users.insert(username, password);
        })
    }

    /// Accepts a CURVE client with this long-term public key.
    pub fn curve_key(self, key: [u8; 32]) -> Self {
        self.edit(|p| {
            p.curve_keys.insert(key);
        })
    }

    /// Accepts any CURVE client (encryption without authentication: the Stonehouse
    /// pattern).
    pub fn curve_allow_any(self) -> Self {
        self.edit(|p| p.curve_any = true)
    }

    /// Asks `callback` first: when it returns a reply, that is the decision.
    pub fn callback(
        self,
        callback: impl Fn(&ZapRequest) -> Option<ZapReply> + Send + Sync + 'static,
    ) -> Self {
        let callback: Arc<AuthCallback> = Arc::new(callback);
        self.edit(|p| p.callback = Some(callback))
    }

    /// Decides one request.
    pub fn authenticate(&self, request: &ZapRequest) -> ZapReply {
        let policy = &self.policy;
        if let Some(reply) = policy.callback.as_ref().and_then(|decide| decide(request)) {
            return reply;
        }
        let address_ok = (policy.allow.is_empty() || policy.allow.contains(&request.address))
            && !policy.deny.contains(&request.address);
        let user_id = address_ok.then(|| self.user_id(request)).flatten();
        match user_id {
            Some(user_id) => ZapReply::new(request, ZapStatus::Success).with_user_id(user_id),
            None => ZapReply::new(request, ZapStatus::AuthenticationFailure),
        }
    }

    /// The user id of an accepted peer, `None` for a refused one.
    fn user_id(&self, request: &ZapRequest) -> Option<Bytes> {
        let policy = &self.policy;
        match request.mechanism {
            MechanismName::NULL => Some(Bytes::new()),
            MechanismName::PLAIN => {
                let (user, password) = (request.username()?, request.password()?);
                let known = policy.plain_users.get(user)?;
                // Compared in full whatever the first difference, so the time taken
                // does not tell how much of a guess was right.
                let same = known.as_bytes().len() == password.len()
                    && known
                        .as_bytes()
                        .iter()
                        .zip(password)
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0;
                same.then(|| Bytes::copy_from_slice(user))
            }
            MechanismName::CURVE => {
                let key = request.curve_key()?;
                (policy.curve_any || policy.curve_keys.contains(&key))
                    .then(|| Bytes::from(crate::proto::z85::encode(&key).unwrap_or_default()))
            }
            _ => None,
        }
    }
}

impl PartialEq for Authenticator {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.policy, &other.policy)
    }
}

impl Eq for Authenticator {}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.policy;
        f.debug_struct("Authenticator")
            .field("allow", &p.allow)
            .field("deny", &p.deny)
            .field("plain_users", &p.plain_users.keys().collect::<Vec<_>>())
            .field("curve_keys", &p.curve_keys.len())
            .field("curve_any", &p.curve_any)
            .field("callback", &p.callback.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        mechanism: MechanismName,
        address: &'static str,
        creds: &[&'static [u8]],
    ) -> ZapRequest {
        let mut request = ZapRequest::new(
            Bytes::new(),
            Bytes::new(),
            mechanism,
            creds.iter().map(|c| Bytes::from_static(c)).collect(),
        );
        request.address = Bytes::from_static(address.as_bytes());
        request
    }

    fn status(auth: &Authenticator, request: &ZapRequest) -> u16 {
        auth.authenticate(request).status.code()
    }

    #[test]
    fn plain_users_need_the_right_password() {
        let auth = Authenticator::new().plain_user("admin", "secret");
        let good = request(MechanismName::PLAIN, "10.0.0.1", &[b"admin", b"secret"]);
        let reply = auth.authenticate(&good);
        assert_eq!(reply.status, ZapStatus::Success);
        assert_eq!(&reply.user_id[..], b"admin");
        for creds in [
            [&b"admin"[..], b"secreT"],
            [b"admin", b"secre"],
            [b"root", b"secret"],
        ] {
            let bad = request(MechanismName::PLAIN, "10.0.0.1", &creds);
            assert_eq!(status(&auth, &bad), 400);
        }
    }

    #[test]
    fn curve_keys_are_allowed_one_by_one_or_all() {
        let key = [7u8; 32];
        let one = Authenticator::new().curve_key(key);
        assert_eq!(
            status(&one, &request(MechanismName::CURVE, "", &[&[7; 32]])),
            200
        );
        assert_eq!(
            status(&one, &request(MechanismName::CURVE, "", &[&[8; 32]])),
            400
        );
        let any = Authenticator::new().curve_allow_any();
        assert_eq!(
            status(&any, &request(MechanismName::CURVE, "", &[&[8; 32]])),
            200
        );
        assert_eq!(
            status(
                &Authenticator::new(),
                &request(MechanismName::CURVE, "", &[&[8; 32]])
            ),
            400
        );
    }

    #[test]
    fn addresses_are_allowed_and_denied() {
        let allow = Authenticator::new().allow("127.0.0.1");
        assert_eq!(
            status(&allow, &request(MechanismName::NULL, "127.0.0.1", &[])),
            200
        );
        assert_eq!(
            status(&allow, &request(MechanismName::NULL, "10.0.0.2", &[])),
            400
        );
        let deny = Authenticator::new().deny("10.0.0.2");
        assert_eq!(
            status(&deny, &request(MechanismName::NULL, "127.0.0.1", &[])),
            200
        );
        assert_eq!(
            status(&deny, &request(MechanismName::NULL, "10.0.0.2", &[])),
            400
        );
    }

    #[test]
    fn the_callback_decides_first() {
        let auth = Authenticator::new()
            .plain_user("admin", "secret")
            .callback(|r| {
                (r.username() == Some(b"guest")).then(|| ZapReply::new(r, ZapStatus::Success))
            });
        let guest = request(MechanismName::PLAIN, "", &[b"guest", b""]);
        assert_eq!(status(&auth, &guest), 200);
        let admin = request(MechanismName::PLAIN, "", &[b"admin", b"secret"]);
        assert_eq!(status(&auth, &admin), 200);
        let other = request(MechanismName::PLAIN, "", &[b"other", b""]);
        assert_eq!(status(&auth, &other), 400);
    }
}
