//! Greeting (being written).
use std::fmt;

/// A security mechanism name as carried in the greeting (up to 20 ASCII bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MechanismName([u8; 20]);

impl MechanismName {
    /// The NULL mechanism.
    pub const NULL: MechanismName = MechanismName::from_static("NULL");
    /// The PLAIN mechanism.
    pub const PLAIN: MechanismName = MechanismName::from_static("PLAIN");
    /// The CURVE mechanism.
    pub const CURVE: MechanismName = MechanismName::from_static("CURVE");

    const fn from_static(name: &str) -> Self {
        let bytes = name.as_bytes();
        let mut out = [0u8; 20];
        let mut i = 0;
        while i < bytes.len() {
            out[i] = bytes[i];
            i += 1;
        }
        MechanismName(out)
    }

    /// Builds a name from the greeting's 20-octet mechanism field.
    pub const fn from_field(field: [u8; 20]) -> Self {
        MechanismName(field)
    }

    /// The 20-octet field, null-padded.
    pub const fn as_field(&self) -> &[u8; 20] {
        &self.0
    }

    /// The name without its null padding.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(20);
        &self.0[..end]
    }
}

impl fmt::Display for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl fmt::Debug for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MechanismName({self})")
    }
}
