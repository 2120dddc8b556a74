//! Strict reading: a wrapper around any serde `Deserializer` under which every field of every
//! struct must be in the input.
//!
//! serde reads a missing `Option` field as `None`, so a snapshot that lacks a field would claim
//! "none" where it says nothing. [`Strict`] sees each struct's field list as the derived code
//! asks for it (`deserialize_struct`), records the keys the input holds, and refuses the struct
//! with serde's own `missing field` error when one is absent, except the few that the model
//! itself leaves out when they are empty ([`MAY_BE_ABSENT`]). It checks while parsing, in one
//! pass over the text: no `serde_json::Value` of the whole file, no second serialization.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, Error as _, MapAccess, SeqAccess, VariantAccess, Visitor};
use std::fmt;

/// (struct, field) pairs the model serializes only when set (`skip_serializing_if`): a file
/// written by tapaudit lacks them when they are empty. Every other field must be present.
/// `strict_tests::the_optional_fields_are_exactly_those_the_model_may_skip` keeps this list
/// equal to the model's `skip_serializing_if` fields.
pub const MAY_BE_ABSENT: &[(&str, &str)] = &[("Meta", "name"), ("Meta", "source"), ("CollectionError", "account")];

/// `T::deserialize(Strict(deserializer))`: as `deserializer` alone, but a struct with a field
/// missing from the input is an error (see the module docs).
pub struct Strict<D>(pub D);

/// Wraps a visitor so that what it is handed (maps, sequences, enums, options) is strict too.
struct Wrap<V>(V);

/// A struct's visitor: checks its fields once the derived code has read the map.
struct StructVisitor<V> {
    name: &'static str,
    fields: &'static [&'static str],
    inner: V,
}

/// A seed whose value is read strictly.
struct Seed<S>(S);

struct Seq<A>(A);

/// A map; inside a struct, `seen` records which of `fields` the input held.
struct Map<'a, A> {
    inner: A,
    record: Option<(&'static [&'static str], &'a mut Seen)>,
}

struct Enum<E>(E);
struct Variant<V>(V);

/// Which fields of a struct were present: a bit each (structs of up to 128 fields, all of the
/// model's), else a flag each.
enum Seen {
    Bits(u128),
    Flags(Vec<bool>),
}

impl Seen {
    fn new(n: usize) -> Seen {
        if n <= 128 {
            Seen::Bits(0)
        } else {
            Seen::Flags(vec![false; n])
        }
    }

    fn set(&mut self, i: usize) {
        match self {
            Seen::Bits(b) => *b |= 1 << i,
            Seen::Flags(f) => f[i] = true,
        }
    }

    fn has(&self, i: usize) -> bool {
        match self {
            Seen::Bits(b) => b & (1 << i) != 0,
            Seen::Flags(f) => f[i],
        }
    }
}

/// The first of `fields` that is neither in `seen` nor allowed to be absent.
fn first_absent(name: &str, fields: &'static [&'static str], seen: &Seen) -> Option<&'static str> {
    fields.iter().enumerate().find(|(i, f)| !seen.has(*i) && !MAY_BE_ABSENT.contains(&(name, **f))).map(|(_, f)| *f)
}

macro_rules! forward_deserialize {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Wrap(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64
        deserialize_char deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf deserialize_option
        deserialize_unit deserialize_seq deserialize_map deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Wrap(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Wrap(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Wrap(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, name: &'static str, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Wrap(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(self, name: &'static str, fields: &'static [&'static str], visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, StructVisitor { name, fields, inner: visitor })
    }

    fn deserialize_enum<V: Visitor<'de>>(self, name: &'static str, variants: &'static [&'static str], visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Wrap(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident: $t:ty)*) => {$(
        fn $method<E: de::Error>(self, v: $t) -> Result<Self::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool: bool visit_i8: i8 visit_i16: i16 visit_i32: i32 visit_i64: i64 visit_i128: i128
        visit_u8: u8 visit_u16: u16 visit_u32: u32 visit_u64: u64 visit_u128: u128 visit_f32: f32 visit_f64: f64
        visit_char: char visit_str: &str visit_borrowed_str: &'de str visit_string: String
        visit_bytes: &[u8] visit_borrowed_bytes: &'de [u8] visit_byte_buf: Vec<u8>
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(Strict(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(Seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(Map { inner: map, record: None })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.0.visit_enum(Enum(data))
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StructVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut seen = Seen::new(self.fields.len());
        let value = self.inner.visit_map(Map { inner: map, record: Some((self.fields, &mut seen)) })?;
        match first_absent(self.name, self.fields, &seen) {
            Some(field) => Err(A::Error::missing_field(field)),
            None => Ok(value),
        }
    }

    // a struct written as an array has its fields by position: the derived code counts them
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(Seq(seq))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A struct's key as the input holds it (borrowed when it has no escapes).
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v))
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        let Some((fields, seen)) = self.record.as_mut() else { return self.inner.next_key_seed(Seed(seed)) };
        // a struct's key: read it as text, note which field it is, hand it to the derived code
        let Some(key) = self.inner.next_key_seed(KeySeed)? else { return Ok(None) };
        let text = match &key {
            Key::Borrowed(s) => *s,
            Key::Owned(s) => s.as_str(),
        };
        if let Some(i) = fields.iter().position(|f| *f == text) {
            seen.set(i);
        }
        match key {
            Key::Borrowed(s) => seed.deserialize(BorrowedStrDeserializer::new(s)).map(Some),
            Key::Owned(s) => seed.deserialize(de::value::StringDeserializer::new(s)).map(Some),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, E: EnumAccess<'de>> EnumAccess<'de> for Enum<E> {
    type Error = E::Error;
    type Variant = Variant<E::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self::Variant), E::Error> {
        let (value, variant) = self.0.variant_seed(seed)?;
        Ok((value, Variant(variant)))
    }
}

impl<'de, V: VariantAccess<'de>> VariantAccess<'de> for Variant<V> {
    type Error = V::Error;

    fn unit_variant(self) -> Result<(), V::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, V::Error> {
        self.0.newtype_variant_seed(Seed(seed))
    }

    fn tuple_variant<W: Visitor<'de>>(self, len: usize, visitor: W) -> Result<W::Value, V::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }

    fn struct_variant<W: Visitor<'de>>(self, fields: &'static [&'static str], visitor: W) -> Result<W::Value, V::Error> {
        self.0.struct_variant(fields, StructVisitor { name: "", fields, inner: visitor })
    }
}

#[cfg(test)]
mod strict_tests;
