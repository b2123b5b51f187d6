//! Socket types and which of them may talk to each other.

use std::fmt;

/// A ZeroMQ socket type, as named in the READY command's `Socket-Type` property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketType {
    /// REQ (RFC 28): strict request-reply client.
    Req,
    /// REP (RFC 28): strict request-reply service.
    Rep,
    /// DEALER (RFC 28): asynchronous round-robin out, fair-queue in.
    Dealer,
    /// ROUTER (RFC 28): routes by peer routing id.
    Router,
    /// PUB (RFC 29): distributes to matching subscribers.
    Pub,
    /// SUB (RFC 29): subscribes by prefix.
    Sub,
    /// XPUB (RFC 29): PUB that exposes subscriptions.
    Xpub,
    /// XSUB (RFC 29): SUB that sends subscriptions as messages.
    Xsub,
    /// PUSH (RFC 30): round-robin pipeline out.
    Push,
    /// PULL (RFC 30): fair-queue pipeline in.
    Pull,
    /// PAIR (RFC 31): exclusive pair.
    Pair,
}

impl SocketType {
    /// Every socket type, in RFC order.
    pub const ALL: [SocketType; 11] = [
        Self::Req,
        Self::Rep,
        Self::Dealer,
        Self::Router,
        Self::Pub,
        Self::Sub,
        Self::Xpub,
        Self::Xsub,
        Self::Push,
        Self::Pull,
        Self::Pair,
    ];

    /// The name sent in the `Socket-Type` property (upper case, as RFC 23 spells it).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Req => "REQ",
            Self::Rep => "REP",
            Self::Dealer => "DEALER",
            Self::Router => "ROUTER",
            Self::Pub => "PUB",
            Self::Sub => "SUB",
            Self::Xpub => "XPUB",
            Self::Xsub => "XSUB",
            Self::Push => "PUSH",
            Self::Pull => "PULL",
            Self::Pair => "PAIR",
        }
    }

    /// Parses a `Socket-Type` value. RFC 23 spells the names in upper case; libzmq
    /// compares them exactly, and so do we.
    pub fn from_bytes(name: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().as_bytes() == name)
    }

    /// The type's number in a ZMTP 2.0 greeting (RFC 15), which is libzmq's `ZMQ_*`
    /// constant: XPUB and XSUB send their own numbers, 9 and 10, as libzmq does.
    pub const fn code(self) -> u8 {
        match self {
            Self::Pair => 0,
            Self::Pub => 1,
            Self::Sub => 2,
            Self::Req => 3,
            Self::Rep => 4,
            Self::Dealer => 5,
            Self::Router => 6,
            Self::Pull => 7,
            Self::Push => 8,
            Self::Xpub => 9,
            Self::Xsub => 10,
        }
    }

    /// The type a ZMTP 2.0 greeting names by number, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Whether a peer of type `peer` may connect to a socket of this type (RFC 23's
    /// table, the one libzmq enforces).
    pub const fn is_compatible(self, peer: SocketType) -> bool {
        use SocketType::*;
        matches!(
            (self, peer),
            (Req, Rep | Router)
                | (Rep, Req | Dealer)
                | (Dealer, Rep | Dealer | Router)
                | (Router, Req | Dealer | Router)
                | (Pub | Xpub, Sub | Xsub)
                | (Sub | Xsub, Pub | Xpub)
                | (Push, Pull)
                | (Pull, Push)
                | (Pair, Pair)
        )
    }
}

impl fmt::Display for SocketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in SocketType::ALL {
            assert_eq!(SocketType::from_bytes(t.as_str().as_bytes()), Some(t));
        }
        assert_eq!(SocketType::from_bytes(b"req"), None);
        assert_eq!(SocketType::from_bytes(b"STREAM"), None);
        assert_eq!(SocketType::from_bytes(b""), None);
    }

    #[test]
    fn codes_round_trip_as_rfc_15_numbers_them() {
        for t in SocketType::ALL {
            assert_eq!(SocketType::from_code(t.code()), Some(t));
        }
        assert_eq!(SocketType::from_code(0), Some(SocketType::Pair));
        assert_eq!(SocketType::from_code(8), Some(SocketType::Push));
        assert_eq!(SocketType::from_code(11), None);
    }

    #[test]
    fn compatibility_is_symmetric() {
        for a in SocketType::ALL {
            for b in SocketType::ALL {
                assert_eq!(a.is_compatible(b), b.is_compatible(a), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn compatibility_matches_rfc_table() {
        use SocketType::*;
        let expected: &[(SocketType, &[SocketType])] = &[
            (Req, &[Rep, Router]),
            (Rep, &[Req, Dealer]),
            (Dealer, &[Rep, Dealer, Router]),
            (Router, &[Req, Dealer, Router]),
            (Pub, &[Sub, Xsub]),
            (Xpub, &[Sub, Xsub]),
            (Sub, &[Pub, Xpub]),
            (Xsub, &[Pub, Xpub]),
            (Push, &[Pull]),
            (Pull, &[Push]),
            (Pair, &[Pair]),
        ];
        for (ours, peers) in expected {
            for theirs in SocketType::ALL {
                assert_eq!(
                    ours.is_compatible(theirs),
                    peers.contains(&theirs),
                    "{ours} with {theirs}"
                );
            }
        }
    }
}
