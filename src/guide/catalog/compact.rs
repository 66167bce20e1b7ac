//! The compact form of the built-in guides: made from their TOML at build
//! time (`build.rs`, with `compact_encode.rs`), read at every start instead
//! of the TOML. It deserializes several times faster than the TOML: no
//! text to scan, no document tree, strings copied as they are.
//!
//! It opens with a string pool, every distinct string (field names
//! included) once, checked as UTF-8 once when read; a string in the value
//! is its place in the pool and its length.
//!
//! A self-describing binary serde format (the guide model needs
//! `deserialize_any` for a rule's `equals`, a TOML value). Every value
//! starts with a tag byte; numbers and lengths are LEB128 varints, negative
//! numbers zigzag-encoded, floats 8 bytes little-endian; a struct is a map
//! from field names to values; an enum is its variant's name and content.
//! A `toml::Spanned` value is stored as the bare value and read back with
//! an empty span: spans only locate errors, and a built-in guide has none
//! (a test proves that each one validates and comes back equal).

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;

pub const UNIT: u8 = 0;
pub const NONE: u8 = 1;
pub const SOME: u8 = 2;
pub const FALSE: u8 = 3;
pub const TRUE: u8 = 4;
pub const UINT: u8 = 5;
pub const INT: u8 = 6;
pub const FLOAT: u8 = 7;
pub const STR: u8 = 8;
pub const BYTES: u8 = 9;
pub const SEQ: u8 = 10;
pub const MAP: u8 = 11;
pub const ENUM: u8 = 12;

/// What `toml::Spanned` asks a deserializer for.
const SPANNED: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";

/// Why compact bytes could not be read (or written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Reads one value of type `T` from `bytes`, all of them.
pub fn from_bytes<'de, T: de::Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, Error> {
    let mut d = Decoder::open(bytes)?;
    let value = T::deserialize(&mut d)?;
    if d.at != bytes.len() {
        return Err(Error(format!("{} bytes left over", bytes.len() - d.at)));
    }
    Ok(value)
}

/// Reads the `index`th element of the sequence in field `field` of the
/// map `bytes` holds (a guide's `steps`, say), skipping everything before
/// it unread. None if the field is not there or has no such element.
pub fn element_of<'de, T: de::Deserialize<'de>>(
    bytes: &'de [u8],
    field: &str,
    index: usize,
) -> Result<Option<T>, Error> {
    let mut d = Decoder::open(bytes)?;
    d.expect(MAP, "a map")?;
    for _ in 0..d.len()? {
        d.expect(STR, "a field name")?;
        if d.str()? != field {
            d.skip()?;
            continue;
        }
        d.expect(SEQ, "a sequence")?;
        let n = d.len()?;
        if index >= n {
            return Ok(None);
        }
        for _ in 0..index {
            d.skip()?;
        }
        return T::deserialize(&mut d).map(Some);
    }
    Ok(None)
}

struct Decoder<'de> {
    bytes: &'de [u8],
    at: usize,
    /// Every string of the value.
    pool: &'de str,
}

impl<'de> Decoder<'de> {
    /// A decoder at the value after the string pool that opens `bytes`
    /// (checked as UTF-8 once; a string is a range of it).
    fn open(bytes: &'de [u8]) -> Result<Self, Error> {
        let mut d = Decoder { bytes, at: 0, pool: "" };
        let pool = d.raw()?;
        d.pool = std::str::from_utf8(pool).map_err(|e| Error(e.to_string()))?;
        Ok(d)
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let b = *self.bytes.get(self.at).ok_or_else(|| Error("unexpected end".into()))?;
        self.at += 1;
        Ok(b)
    }

    fn peek(&self) -> Result<u8, Error> {
        self.bytes.get(self.at).copied().ok_or_else(|| Error("unexpected end".into()))
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(Error("varint too long".into()))
    }

    fn len(&mut self) -> Result<usize, Error> {
        let n = self.varint()?;
        usize::try_from(n).ok().filter(|n| *n <= self.bytes.len() - self.at).ok_or_else(|| Error("bad length".into()))
    }

    fn raw(&mut self) -> Result<&'de [u8], Error> {
        let n = self.len()?;
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn str(&mut self) -> Result<&'de str, Error> {
        let at = usize::try_from(self.varint()?).map_err(|_| Error("bad string".into()))?;
        let len = usize::try_from(self.varint()?).map_err(|_| Error("bad string".into()))?;
        let pool = self.pool;
        at.checked_add(len).and_then(|end| pool.get(at..end)).ok_or_else(|| Error("bad string".into()))
    }

    /// Steps over one value without reading it into anything.
    fn skip(&mut self) -> Result<(), Error> {
        match self.byte()? {
            UNIT | NONE | FALSE | TRUE => Ok(()),
            SOME => self.skip(),
            UINT | INT => self.varint().map(drop),
            FLOAT => match self.at.checked_add(8).filter(|end| *end <= self.bytes.len()) {
                Some(end) => {
                    self.at = end;
                    Ok(())
                }
                None => Err(Error("unexpected end".into())),
            },
            STR => self.str().map(drop),
            BYTES => self.raw().map(drop),
            SEQ => (0..self.len()?).try_for_each(|_| self.skip()),
            MAP => (0..self.len()?).try_for_each(|_| self.skip().and_then(|()| self.skip())),
            ENUM => {
                self.expect(STR, "a variant name")?;
                self.str()?;
                self.skip()
            }
            t => Err(Error(format!("unknown tag {t}"))),
        }
    }

    fn expect(&mut self, tag: u8, what: &str) -> Result<(), Error> {
        match self.byte()? {
            t if t == tag => Ok(()),
            t => Err(Error(format!("expected {what}, found tag {t}"))),
        }
    }
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.byte()? {
            UNIT => visitor.visit_unit(),
            NONE => visitor.visit_none(),
            SOME => visitor.visit_some(self),
            FALSE => visitor.visit_bool(false),
            TRUE => visitor.visit_bool(true),
            UINT => visitor.visit_u64(self.varint()?),
            INT => {
                let z = self.varint()?;
                visitor.visit_i64(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            FLOAT => {
                let mut b = [0u8; 8];
                for x in &mut b {
                    *x = self.byte()?;
                }
                visitor.visit_f64(f64::from_le_bytes(b))
            }
            STR => visitor.visit_borrowed_str(self.str()?),
            BYTES => visitor.visit_borrowed_bytes(self.raw()?),
            SEQ => {
                let left = self.len()?;
                visitor.visit_seq(Items { d: self, left })
            }
            MAP => {
                let left = self.len()?;
                visitor.visit_map(Items { d: self, left })
            }
            ENUM => visitor.visit_enum(Variant { d: self }),
            t => Err(Error(format!("unknown tag {t}"))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek()? {
            NONE => {
                self.at += 1;
                visitor.visit_none()
            }
            SOME => {
                self.at += 1;
                visitor.visit_some(self)
            }
            // A value where an option is asked for: it is there.
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED {
            return visitor.visit_map(Spanned { d: self, next: 0 });
        }
        let _ = fields;
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.expect(ENUM, "an enum")?;
        visitor.visit_enum(Variant { d: self })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// The items of a sequence or map (a map's: key, value, key, value...).
struct Items<'a, 'de> {
    d: &'a mut Decoder<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.d).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.d).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.d)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// An enum: the variant's name, then its content.
struct Variant<'a, 'de> {
    d: &'a mut Decoder<'de>,
}

impl<'a, 'de> de::EnumAccess<'de> for Variant<'a, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        self.d.expect(STR, "a variant name")?;
        let name = self.d.str()?;
        let v = seed.deserialize(BorrowedStrDeserializer::<Error>::new(name))?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        self.d.expect(UNIT, "a unit variant")
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(&mut *self.d)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(&mut *self.d, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(&mut *self.d, visitor)
    }
}

/// A `toml::Spanned` value: an empty span, then the value as stored.
struct Spanned<'a, 'de> {
    d: &'a mut Decoder<'de>,
    next: u8,
}

impl<'de> de::MapAccess<'de> for Spanned<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let key = match self.next {
            0 => SPANNED_START,
            1 => SPANNED_END,
            2 => SPANNED_VALUE,
            _ => return Ok(None),
        };
        seed.deserialize(BorrowedStrDeserializer::<Error>::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.next += 1;
        if self.next <= 2 {
            return seed.deserialize(IntoDeserializer::<Error>::into_deserializer(0usize));
        }
        seed.deserialize(&mut *self.d)
    }
}
