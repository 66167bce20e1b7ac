//! Writes the compact form read by `compact.rs` (its format is described
//! there). Used at build time by `build.rs`, and by the tests.

use super::compact::{BYTES, ENUM, Error, FALSE, FLOAT, INT, MAP, NONE, SEQ, SOME, STR, TRUE, UINT, UNIT};
use serde::ser::{self, Serialize};

/// `value` in the compact form: the string pool, then the value.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let (body, pool) = encode(value, Pool::default())?;
    let mut e = Encoder { out: Vec::new(), pool: Pool::default() };
    e.varint(pool.text.len() as u64);
    e.out.extend_from_slice(pool.text.as_bytes());
    e.out.extend_from_slice(&body);
    Ok(e.out)
}

/// `value` alone, its strings added to `pool`.
fn encode<T: Serialize + ?Sized>(value: &T, pool: Pool) -> Result<(Vec<u8>, Pool), Error> {
    let mut e = Encoder { out: Vec::new(), pool };
    value.serialize(&mut e)?;
    Ok((e.out, e.pool))
}

/// Every distinct string once, and where it is.
#[derive(Default)]
struct Pool {
    text: String,
    at: std::collections::HashMap<String, usize>,
}

struct Encoder {
    out: Vec<u8>,
    pool: Pool,
}

impl Encoder {
    /// A string: where it is in the pool, and its length.
    fn string(&mut self, s: &str) {
        let at = match self.pool.at.get(s) {
            Some(at) => *at,
            None => {
                let at = self.pool.text.len();
                self.pool.text.push_str(s);
                self.pool.at.insert(s.to_string(), at);
                at
            }
        };
        self.out.push(STR);
        self.varint(at as u64);
        self.varint(s.len() as u64);
    }

    fn varint(&mut self, mut n: u64) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.out.push(b);
                return;
            }
            self.out.push(b | 0x80);
        }
    }

    fn raw(&mut self, tag: u8, bytes: &[u8]) {
        self.out.push(tag);
        self.varint(bytes.len() as u64);
        self.out.extend_from_slice(bytes);
    }

    fn int(&mut self, n: i64) {
        self.out.push(INT);
        self.varint(((n << 1) ^ (n >> 63)) as u64);
    }

    fn uint(&mut self, n: u64) {
        self.out.push(UINT);
        self.varint(n);
    }

    fn len(len: Option<usize>) -> Result<usize, Error> {
        len.ok_or_else(|| Error("a sequence or map of unknown length".into()))
    }

    fn variant(&mut self, name: &str) {
        self.out.push(ENUM);
        self.string(name);
    }
}

impl<'a> ser::Serializer for &'a mut Encoder {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = &'a mut Encoder;
    type SerializeTuple = &'a mut Encoder;
    type SerializeTupleStruct = &'a mut Encoder;
    type SerializeTupleVariant = &'a mut Encoder;
    type SerializeMap = &'a mut Encoder;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = Fields<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.push(if v { TRUE } else { FALSE });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.int(v.into());
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.int(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.uint(v.into());
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.uint(v.into());
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.uint(v.into());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.uint(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.out.push(FLOAT);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.raw(BYTES, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.push(NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.out.push(SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.push(UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.variant(variant);
        self.out.push(UNIT);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant(variant);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, Error> {
        let len = Encoder::len(len)?;
        self.out.push(SEQ);
        self.varint(len as u64);
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Self, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self, Error> {
        self.variant(variant);
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self, Error> {
        let len = Encoder::len(len)?;
        self.out.push(MAP);
        self.varint(len as u64);
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'a>, Error> {
        Ok(Fields { e: self, fields: Vec::new() })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Fields<'a>, Error> {
        self.variant(variant);
        Ok(Fields { e: self, fields: Vec::new() })
    }
}

/// Sequences and tuples of every kind: each element in order, nothing
/// around them (the length was written when they began).
macro_rules! elements_in_order {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for &mut Encoder {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        }
    )*};
}

elements_in_order!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Encoder {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// A struct's fields: only those serialized (`skip_serializing_if` leaves
/// some out), so they are counted before they are written.
pub struct Fields<'a> {
    e: &'a mut Encoder,
    fields: Vec<(&'static str, Vec<u8>)>,
}

impl Fields<'_> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        let (bytes, pool) = encode(value, std::mem::take(&mut self.e.pool))?;
        self.e.pool = pool;
        self.fields.push((key, bytes));
        Ok(())
    }

    fn finish(self) -> Result<(), Error> {
        self.e.out.push(MAP);
        self.e.varint(self.fields.len() as u64);
        for (key, value) in self.fields {
            self.e.string(key);
            self.e.out.extend_from_slice(&value);
        }
        Ok(())
    }
}

/// Structs and struct variants alike: the fields counted, then written.
macro_rules! fields_counted {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Fields<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

fields_counted!(SerializeStruct, SerializeStructVariant);
