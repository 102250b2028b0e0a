//! The field names of a struct, as serde sees them: a section's variables,
//! read off its `Raw` struct so that no list of them is kept by hand.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// `T`'s field names (its variables, lower-cased).
pub(super) fn of<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
    let mut fields = Fields(&[]);
    // Always an error: the point is the `fields` serde hands over first.
    let _ = T::deserialize(&mut fields);
    fields.0.to_vec()
}

struct Fields(&'static [&'static str]);

impl<'de> Deserializer<'de> for &mut Fields {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("only the field names were asked for"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}
