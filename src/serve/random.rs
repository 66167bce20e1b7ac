//! Randomness for host keys and invite tokens: the operating system's
//! (through ring), never a seeded generator.

use ring::rand::{SecureRandom, SystemRandom};

pub fn fill(buf: &mut [u8]) -> Result<(), String> {
    SystemRandom::new().fill(buf).map_err(|_| "the system's random source failed".to_string())
}
