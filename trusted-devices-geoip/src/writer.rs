//! Writes small MaxMind DB files, so that tests (this crate's, the example servers', an
//! application's) build the database they need instead of downloading one.
//!
//! A test tool, not a production writer: it builds an IPv6 tree (IPv4 networks sit under
//! `::/96`, where readers look them up) with 32-bit records, writes each value once per
//! network, and supports the value types geolocation databases use.
//!
//! ```
//! use trusted_devices_geoip::writer::{MmdbWriter, Value};
//!
//! let mut writer = MmdbWriter::new("Test-City");
//! writer.insert(
//!     "192.0.2.0/24".parse().unwrap(),
//!     Value::map([("city", Value::map([("names", Value::map([("en", "Lisbon".into())]))]))]),
//! );
//! let bytes = writer.to_bytes();
//! let reader = maxminddb::Reader::from_source(bytes).unwrap();
//! assert_eq!(reader.metadata().database_type, "Test-City");
//! ```

use std::net::IpAddr;

use ipnet::IpNet;

/// A value of the MaxMind DB data section.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// UTF-8 text.
    String(String),
    /// A 64-bit float.
    Double(f64),
    /// An unsigned 16-bit integer.
    Uint16(u16),
    /// An unsigned 32-bit integer.
    Uint32(u32),
    /// An unsigned 64-bit integer.
    Uint64(u64),
    /// A boolean.
    Bool(bool),
    /// Keys and values, in this order.
    Map(Vec<(String, Value)>),
    /// Values, in this order.
    Array(Vec<Value>),
}

impl Value {
    /// A map of these pairs.
    #[must_use]
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Self {
        Self::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Self::String(text.to_owned())
    }
}

/// Data-section type numbers (MaxMind DB format 2.0).
mod kind {
    pub(super) const STRING: u8 = 2;
    pub(super) const DOUBLE: u8 = 3;
    pub(super) const UINT16: u8 = 5;
    pub(super) const UINT32: u8 = 6;
    pub(super) const MAP: u8 = 7;
    pub(super) const UINT64: u8 = 9;
    pub(super) const ARRAY: u8 = 11;
    pub(super) const BOOL: u8 = 14;
}

/// Where a record of the search tree leads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Empty,
    Node(usize),
    Data(usize),
}

/// Builds a database in memory; [`to_bytes`](Self::to_bytes) gives the file.
#[derive(Debug, Clone)]
pub struct MmdbWriter {
    database_type: String,
    nodes: Vec<[Slot; 2]>,
    values: Vec<Value>,
}

/// Separates the search tree from the data section.
const DATA_SECTION_SEPARATOR: [u8; 16] = [0; 16];
/// Starts the metadata section.
const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

impl MmdbWriter {
    /// An empty database of this type ("GeoLite2-City", "GeoLite2-ASN"...).
    #[must_use]
    pub fn new(database_type: &str) -> Self {
        Self {
            database_type: database_type.to_owned(),
            nodes: vec![[Slot::Empty; 2]],
            values: Vec::new(),
        }
    }

    /// Maps every address of `network` to `value`; a later, more specific network wins
    /// inside an earlier one.
    pub fn insert(&mut self, network: IpNet, value: Value) {
        let (bits, prefix) = tree_path(network);
        self.values.push(value);
        let data = Slot::Data(self.values.len() - 1);
        if prefix == 0 {
            // Every address: the root's two halves.
            self.set(0, 0, data);
            self.set(0, 1, data);
            return;
        }
        let mut node = 0;
        for depth in 0..prefix {
            let bit = usize::from((bits >> (127 - depth)) & 1 == 1);
            if depth + 1 == prefix {
                self.set(node, bit, data);
                return;
            }
            node = match self.get(node, bit) {
                Slot::Node(next) => next,
                // A network already ends here: its value fills both halves below.
                inherited => {
                    self.nodes.push([inherited; 2]);
                    let next = self.nodes.len() - 1;
                    self.set(node, bit, Slot::Node(next));
                    next
                }
            };
        }
    }

    fn get(&self, node: usize, bit: usize) -> Slot {
        self.nodes
            .get(node)
            .and_then(|pair| pair.get(bit))
            .copied()
            .unwrap_or(Slot::Empty)
    }

    fn set(&mut self, node: usize, bit: usize, slot: Slot) {
        if let Some(target) = self.nodes.get_mut(node).and_then(|pair| pair.get_mut(bit)) {
            *target = slot;
        }
    }

    /// The database file.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut data = Vec::new();
        let offsets: Vec<usize> = self
            .values
            .iter()
            .map(|value| {
                let offset = data.len();
                encode(value, &mut data);
                offset
            })
            .collect();
        let node_count = self.nodes.len();
        let record = |slot: Slot| -> u32 {
            let value = match slot {
                Slot::Empty => node_count,
                Slot::Node(index) => index,
                Slot::Data(index) => {
                    node_count
                        + DATA_SECTION_SEPARATOR.len()
                        + offsets.get(index).copied().unwrap_or(0)
                }
            };
            u32::try_from(value).unwrap_or(u32::MAX)
        };
        let mut file = Vec::new();
        for [left, right] in &self.nodes {
            file.extend_from_slice(&record(*left).to_be_bytes());
            file.extend_from_slice(&record(*right).to_be_bytes());
        }
        file.extend_from_slice(&DATA_SECTION_SEPARATOR);
        file.extend_from_slice(&data);
        file.extend_from_slice(METADATA_MARKER);
        encode(&self.metadata(node_count), &mut file);
        file
    }

    fn metadata(&self, node_count: usize) -> Value {
        Value::map([
            ("binary_format_major_version", Value::Uint16(2)),
            ("binary_format_minor_version", Value::Uint16(0)),
            ("build_epoch", Value::Uint64(0)),
            ("database_type", Value::String(self.database_type.clone())),
            (
                "description",
                Value::map([("en", "Written by trusted-devices-geoip for tests".into())]),
            ),
            ("ip_version", Value::Uint16(6)),
            ("languages", Value::Array(vec!["en".into()])),
            (
                "node_count",
                Value::Uint32(u32::try_from(node_count).unwrap_or(u32::MAX)),
            ),
            ("record_size", Value::Uint16(32)),
        ])
    }
}

/// The network's address as 128 bits of the IPv6 tree, and how many of them are fixed.
fn tree_path(network: IpNet) -> (u128, u32) {
    match network.network() {
        IpAddr::V4(v4) => (
            u128::from(u32::from(v4)),
            96 + u32::from(network.prefix_len()),
        ),
        IpAddr::V6(v6) => (u128::from(v6), u32::from(network.prefix_len())),
    }
}

fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::String(text) => {
            control(kind::STRING, text.len(), out);
            out.extend_from_slice(text.as_bytes());
        }
        Value::Double(number) => {
            control(kind::DOUBLE, 8, out);
            out.extend_from_slice(&number.to_be_bytes());
        }
        Value::Uint16(number) => unsigned(kind::UINT16, u64::from(*number), out),
        Value::Uint32(number) => unsigned(kind::UINT32, u64::from(*number), out),
        Value::Uint64(number) => unsigned(kind::UINT64, *number, out),
        Value::Bool(flag) => control(kind::BOOL, usize::from(*flag), out),
        Value::Map(pairs) => {
            control(kind::MAP, pairs.len(), out);
            for (key, value) in pairs {
                encode(&Value::String(key.clone()), out);
                encode(value, out);
            }
        }
        Value::Array(values) => {
            control(kind::ARRAY, values.len(), out);
            for value in values {
                encode(value, out);
            }
        }
    }
}

/// An unsigned integer in as few big-endian bytes as it needs (zero in none).
fn unsigned(kind: u8, number: u64, out: &mut Vec<u8>) {
    let bytes = number.to_be_bytes();
    let first = bytes
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(bytes.len());
    let significant = bytes.get(first..).unwrap_or_default();
    control(kind, significant.len(), out);
    out.extend_from_slice(significant);
}

/// The control byte (type and size), the extended-type byte for types above 7, and the
/// size's extra bytes.
fn control(kind: u8, size: usize, out: &mut Vec<u8>) {
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..29 => (u8::try_from(size).unwrap_or(0), Vec::new()),
        29..285 => (29, vec![u8::try_from(size - 29).unwrap_or(0)]),
        285..65_821 => (
            30,
            u16::try_from(size - 285)
                .unwrap_or(0)
                .to_be_bytes()
                .to_vec(),
        ),
        _ => {
            let bytes = u32::try_from(size - 65_821).unwrap_or(0).to_be_bytes();
            (31, bytes.get(1..).unwrap_or_default().to_vec())
        }
    };
    if kind <= 7 {
        out.push((kind << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}
