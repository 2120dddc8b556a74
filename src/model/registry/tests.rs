//! The registry against the State's own shape: a State with items in every `Collection`
//! (found in its JSON, not in the registry) must be merged, counted and scoped collection by
//! collection. A collection the registry missed or mishandles fails here by name.

use super::*;
use crate::model::{State, REGISTRY, SERVICES};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde_json::{json, Value};

/// A deserializer that makes one of everything: every struct field, one element per sequence,
/// one entry per map, the first variant of every enum (`Observed::Known`), `Some` for options.
/// So `sample::<State>()` holds an item in every collection of every part, whatever fields the
/// model has today or gains tomorrow.
struct Sample {
    depth: usize,
}

fn sample<T: de::DeserializeOwned>() -> T {
    T::deserialize(Sample { depth: 0 }).expect("every model type can be sampled")
}

type SampleError = de::value::Error;

impl Sample {
    fn deeper(&self) -> Result<Sample, SampleError> {
        if self.depth > 32 {
            return Err(de::Error::custom("the model nests deeper than 32 levels (recursive type?)"));
        }
        Ok(Sample { depth: self.depth + 1 })
    }
}

struct One<'a> {
    sample: Option<&'a Sample>,
}

impl<'de> de::SeqAccess<'de> for One<'_> {
    type Error = SampleError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, SampleError> {
        match self.sample.take() {
            Some(s) => seed.deserialize(s.deeper()?).map(Some),
            None => Ok(None),
        }
    }
}

impl<'de> de::MapAccess<'de> for One<'_> {
    type Error = SampleError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, SampleError> {
        match self.sample {
            Some(s) => seed.deserialize(s.deeper()?).map(Some),
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, SampleError> {
        let s = self.sample.take().expect("a value follows its key");
        seed.deserialize(s.deeper()?)
    }
}

struct Fields<'a> {
    sample: &'a Sample,
    fields: std::slice::Iter<'static, &'static str>,
}

impl<'de> de::MapAccess<'de> for Fields<'_> {
    type Error = SampleError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, SampleError> {
        match self.fields.next() {
            Some(f) => seed.deserialize((*f).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, SampleError> {
        seed.deserialize(self.sample.deeper()?)
    }
}

struct FirstVariant<'a> {
    sample: &'a Sample,
    variant: &'static str,
}

impl<'de, 'a> de::EnumAccess<'de> for FirstVariant<'a> {
    type Error = SampleError;
    type Variant = &'a Sample;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, &'a Sample), SampleError> {
        Ok((seed.deserialize(self.variant.into_deserializer())?, self.sample))
    }
}

impl<'de> de::VariantAccess<'de> for &Sample {
    type Error = SampleError;
    fn unit_variant(self) -> Result<(), SampleError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, SampleError> {
        seed.deserialize(self.deeper()?)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_seq(One { sample: Some(self) })
    }
    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_map(Fields { sample: self, fields: fields.iter() })
    }
}

impl<'de> de::Deserializer<'de> for Sample {
    type Error = SampleError;

    /// Self-describing values (`serde_json::Value`): a string.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_str("sample")
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_bool(true)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_i8(1)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_i16(1)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_i32(1)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_i64(1)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_u8(1)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_u16(1)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_u32(1)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_u64(1)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_f32(1.0)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_f64(1.0)
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_char('s')
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_str("sample")
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_str("sample")
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_bytes(b"sample")
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_bytes(b"sample")
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_some(self.deeper()?)
    }
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_newtype_struct(self.deeper()?)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_seq(One { sample: Some(&self) })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_seq(One { sample: Some(&self) })
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _name: &'static str, _len: usize, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_seq(One { sample: Some(&self) })
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_map(One { sample: Some(&self) })
    }
    fn deserialize_struct<V: Visitor<'de>>(self, _name: &'static str, fields: &'static [&'static str], visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_map(Fields { sample: &self, fields: fields.iter() })
    }
    fn deserialize_enum<V: Visitor<'de>>(self, _name: &'static str, variants: &'static [&'static str], visitor: V) -> Result<V::Value, SampleError> {
        let variant = variants.first().ok_or_else(|| de::Error::custom("an enum without variants"))?;
        visitor.visit_enum(FirstVariant { sample: &self, variant })
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_str("sample")
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SampleError> {
        visitor.visit_unit()
    }
}

/// `section.field` of every collection in a serialized State: an object `{items, failures}`.
fn collections_of(state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (section, part) in state.as_object().expect("a State is an object") {
        for (field, v) in part.as_object().expect("a part is an object") {
            if is_collection(v) {
                out.push(format!("{section}.{field}"));
            }
        }
    }
    out
}

fn is_collection(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.len() == 2 && o.get("items").is_some_and(Value::is_object) && o.get("failures").is_some_and(Value::is_array))
}

/// The registry's view: `section.field` → (resource type, scoping, remembered in).
fn registered(state: &State) -> Vec<(String, CollectionEntry)> {
    let mut out = Vec::new();
    state.collections(&mut |s, e, _| out.push((format!("{}.{}", s.name, e.field), e)));
    out
}

/// The sampled State with, in every collection, one item per `(suffix, stack tag)`, keyed and
/// ARN'd `<section>.<field>/<suffix>`, and one failure per suffix (region `<suffix>`). Other
/// fields of the parts keep their sampled value, with their keys / elements suffixed.
fn populated(items: &[(&str, Option<&str>)]) -> State {
    let mut v = serde_json::to_value(sample::<State>()).unwrap();
    for (section, part) in v.as_object_mut().unwrap() {
        for (field, value) in part.as_object_mut().unwrap() {
            if !is_collection(value) {
                let suffix = items.first().map(|(s, _)| *s).unwrap_or_default();
                *value = suffixed(value, suffix);
                continue;
            }
            let template = value["items"].as_object().unwrap().values().next().expect("the sample has an item").clone();
            let mut map = serde_json::Map::new();
            for (suffix, stack) in items {
                let arn = format!("{section}.{field}/{suffix}");
                let mut item = template.clone();
                item["meta"]["arn"] = json!(arn);
                item["meta"]["tags"] = match stack {
                    Some(s) => json!({"known": {crate::vocab::TAG_STACK: s}}),
                    None => json!({"known": {}}),
                };
                map.insert(arn, item);
            }
            value["items"] = Value::Object(map);
            value["failures"] = Value::Array(items.iter().map(|(s, _)| json!({"region": s, "reason": "sample"})).collect());
        }
    }
    serde_json::from_value(v).expect("a populated State reads back")
}

/// A non-collection field with its map keys / set elements suffixed (so that merging two
/// populated States must keep both).
fn suffixed(v: &Value, suffix: &str) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (format!("{k}/{suffix}"), x.clone())).collect()),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| match x.as_str() {
                    Some(s) => json!(format!("{s}/{suffix}")),
                    None => x.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn items_of(state: &State) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    state.collections(&mut |s, e, c| {
        out.insert(format!("{}.{}", s.name, e.field), c.metas().iter().map(|m| m.arn.clone()).collect());
    });
    out
}

#[test]
fn the_sample_has_an_item_in_every_collection_and_the_registry_lists_every_collection() {
    let v = serde_json::to_value(sample::<State>()).unwrap();
    let found = collections_of(&v);
    assert!(found.len() > 20, "{found:?}");
    let listed: Vec<String> = registered(&State::default()).into_iter().map(|(k, _)| k).collect();
    for c in &found {
        assert!(listed.contains(c), "collection {c} is not in the service registry (model::services!)");
    }
    for c in &listed {
        assert!(found.contains(c), "the registry lists {c}, which is not a collection of the State");
    }
    for (section, part) in v.as_object().unwrap() {
        for (field, value) in part.as_object().unwrap() {
            if is_collection(value) {
                assert_eq!(value["items"].as_object().unwrap().len(), 1, "{section}.{field}");
            }
        }
    }
}

#[test]
fn services_and_sections_are_one_list() {
    let v = serde_json::to_value(State::default()).unwrap();
    let sections: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(sections, SERVICES, "the State's sections are the registry's services, in its order");
    assert_eq!(REGISTRY.iter().map(|s| s.name).collect::<Vec<_>>(), SERVICES);
    let mut recorders: Vec<&str> = REGISTRY.iter().map(|s| s.recorder).collect();
    recorders.sort();
    recorders.dedup();
    assert_eq!(recorders.len(), REGISTRY.len(), "recorder names are unique");
    // every service has at least one collection: a service without one is never counted
    for s in SERVICES {
        assert!(registered(&State::default()).iter().any(|(k, _)| k.starts_with(&format!("{s}."))), "{s} has no collection");
    }
}

#[test]
fn resource_types_are_unique_and_well_formed() {
    let entries = registered(&State::default());
    let mut types: Vec<&str> = entries.iter().map(|(_, e)| e.resource_type).collect();
    types.sort();
    let n = types.len();
    types.dedup();
    assert_eq!(types.len(), n, "two collections share a resource type: {types:?}");
    // `<service>:<kind>` as AWS names them (`elbv2:listener`, `acm:certificate` read for ELBv2)
    let word = |w: &str, extra: char| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == extra);
    for (k, e) in &entries {
        let ok = e.resource_type.split_once(':').is_some_and(|(svc, kind)| word(svc, '0') && word(kind, '-'));
        assert!(ok, "{k}: resource type {:?} is not `<service>:<kind>`", e.resource_type);
    }
}

#[test]
fn merging_keeps_every_collection_and_every_other_field_of_both_regions() {
    let mut a = populated(&[("a", Some("dev"))]);
    let b = populated(&[("b", Some("dev"))]);
    a.merge(b);
    let v = serde_json::to_value(&a).unwrap();
    for (section, part) in v.as_object().unwrap() {
        for (field, value) in part.as_object().unwrap() {
            let what = format!("{section}.{field}");
            if is_collection(value) {
                let keys: Vec<&String> = value["items"].as_object().unwrap().keys().collect();
                assert_eq!(keys, vec![&format!("{what}/a"), &format!("{what}/b")], "{what} was not merged");
                assert_eq!(value["failures"].as_array().unwrap().len(), 2, "{what}: failures were not merged");
            } else {
                let n = value.as_object().map(|o| o.len()).or(value.as_array().map(|a| a.len()));
                assert_eq!(n, Some(2), "{what} was not merged: {value}");
            }
        }
    }
}

#[test]
fn every_collection_is_counted_under_its_resource_type() {
    let s = populated(&[("a", None), ("b", None), ("c", Some("dev"))]);
    let counts = s.count_resources();
    let entries = registered(&s);
    assert_eq!(counts.len(), entries.len(), "{counts:?}");
    for (k, e) in &entries {
        assert_eq!(counts.get(e.resource_type), Some(&3), "{k} ({}) is not counted", e.resource_type);
    }
    assert!(State::default().count_resources().is_empty(), "empty collections are not listed");
}

#[test]
fn every_collection_is_scoped_by_its_rule() {
    let mut s = populated(&[("mine", Some("dev")), ("untagged", None), ("other", Some("prod"))]);
    s.retain_stack("dev");
    let items = items_of(&s);
    let v = serde_json::to_value(&s).unwrap();
    for (k, e) in registered(&s) {
        let got = &items[&k];
        match e.scoping {
            Scoping::ByTag => {
                assert_eq!(got, &vec![format!("{k}/mine"), format!("{k}/untagged")], "{k}: scoped by tag");
                if let Some(field) = e.remembered_in {
                    let (section, _) = k.split_once('.').unwrap();
                    let set = v[section][field].as_array().unwrap();
                    assert!(set.contains(&json!(format!("{k}/other"))), "{k}: what scoping left out is remembered in {section}.{field}: {set:?}");
                }
            }
            Scoping::Tagged => assert_eq!(got, &vec![format!("{k}/mine")], "{k}: only what is tagged for the stack"),
            Scoping::Account(what) => {
                assert!(!what.is_empty(), "{k}: say what it is");
                assert!(got.is_empty(), "{k}: account-level records are not part of a stack ({what})");
            }
            Scoping::PartOf(why) | Scoping::Kept(why) => {
                assert!(!why.is_empty(), "{k}: say why");
                assert_eq!(got.len(), 3, "{k}: kept whatever its tags ({why})");
            }
        }
    }
    // the failures stay: a listing that failed is still incomplete for the stack
    s.collections(&mut |_, e, c| assert_eq!(c.failures().len(), 3, "{}", e.field));
}

#[test]
fn unknown_tags_stay_in_scope() {
    let mut v = serde_json::to_value(populated(&[("unknown", Some("prod"))])).unwrap();
    for part in v.as_object_mut().unwrap().values_mut() {
        for value in part.as_object_mut().unwrap().values_mut().filter(|v| is_collection(v)) {
            for item in value["items"].as_object_mut().unwrap().values_mut() {
                item["meta"]["tags"] = json!({"unknown": "ListTags failed"});
            }
        }
    }
    let mut s: State = serde_json::from_value(v).unwrap();
    let mut before = items_of(&s);
    // account-level records are never a stack's, whatever their tags
    for (k, e) in registered(&s) {
        if matches!(e.scoping, Scoping::Account(_)) {
            before.insert(k, vec![]);
        }
    }
    s.retain_stack("dev");
    assert_eq!(items_of(&s), before);
}

#[test]
fn reach_decides_the_regions() {
    assert!(Reach::Regional.collected_in(false) && Reach::Regional.collected_in(true));
    assert!(Reach::Global.collected_in(true) && !Reach::Global.collected_in(false));
    assert_eq!(REGISTRY.iter().filter(|s| s.reach == Reach::Global).map(|s| s.name).collect::<Vec<_>>(), vec!["iam", "s3control"]);
}

/// Every field path of a serialized value, map keys as `*` (`state.kms.keys.items.*.meta.arn`).
fn shape(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                // map keys are data (ARNs, regions, tag keys), field names are not
                let key = if k == "sample" || k.contains('/') { "*" } else { k.as_str() };
                shape(x, &format!("{path}.{key}"), out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| shape(x, &format!("{path}[]"), out)),
        _ => out.push(path.trim_start_matches('.').to_string()),
    }
}

/// The strict reader refuses a snapshot that lacks any field, so any change to what a snapshot
/// holds (a service, a collection, an evidence field) makes older snapshots unreadable: it must
/// bump `SNAPSHOT_VERSION`, which then says "older than this tapaudit reads" instead of
/// "missing". The shape of each version is checked in (`fixtures/snapshot-shape/v<N>.txt`).
#[test]
fn the_snapshot_format_changes_only_with_its_version() {
    let mut lines = Vec::new();
    shape(&serde_json::to_value(sample::<crate::model::Snapshot>()).unwrap(), "", &mut lines);
    lines.sort();
    lines.dedup();
    let got = lines.join("\n") + "\n";
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/snapshot-shape");
    let version = crate::model::SNAPSHOT_VERSION;
    let file = dir.join(format!("v{version}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOT_SHAPE").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&file, &got).unwrap();
    }
    let want = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        want == got,
        "what a snapshot holds changed: snapshots of version {version} no longer read. Bump SNAPSHOT_VERSION (model/mod.rs, \
         saying what changed) and write the new version's shape with `UPDATE_SNAPSHOT_SHAPE=1 cargo test --lib snapshot_format` \
         ({}); keep the older files.\n{}",
        file.display(),
        diff(&want, &got)
    );
    for older in 1..version {
        let old = std::fs::read_to_string(dir.join(format!("v{older}.txt"))).unwrap_or_default();
        assert_ne!(old, got, "version {version} holds what version {older} held: a version is never redefined");
    }
}

fn diff(want: &str, got: &str) -> String {
    let w: BTreeSet<&str> = want.lines().collect();
    let g: BTreeSet<&str> = got.lines().collect();
    let mut out: Vec<String> = g.difference(&w).map(|l| format!("+ {l}")).collect();
    out.extend(w.difference(&g).map(|l| format!("- {l}")));
    out.join("\n")
}
