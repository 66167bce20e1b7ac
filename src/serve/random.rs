//! Randomness for host keys and invite tokens: the operating system's
//! (through ring), never a seeded generator.

use ring::rand::{SecureRandom, SystemRandom};

/// The operating system gave no random bytes (ring says no more than that:
/// its `Unspecified` carries nothing to keep as a source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system's random source failed")]
pub struct RandomError;

pub fn fill(buf: &mut [u8]) -> Result<(), RandomError> {
    SystemRandom::new().fill(buf).map_err(|_| RandomError)
}
