// SPDX-License-Identifier: Apache-2.0
//! The one error type of the crate. Every misuse of the writer or the tree editor, and
//! every defect found in an input blob, comes back as an [`Error`]; nothing here panics.

use alloc::string::String;
use core::fmt;

/// Why building, editing, reading or writing a device tree failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `end_node` was called while no node was open.
    EndNodeWithoutBeginNode,
    /// `finish` was called while this many nodes were still open.
    UnclosedNodes(usize),
    /// A property was written before the root node was opened or after it was closed.
    PropertyOutsideNode,
    /// A property was written after a child node of the same node; the format requires
    /// all properties of a node to come before its children.
    PropertyAfterChildNode(String),
    /// A node already has a property of this name.
    DuplicateProperty(String),
    /// A node already has a child of this name.
    DuplicateNode(String),
    /// A node name is empty, contains `/`, or contains non-printable or non-ASCII bytes.
    InvalidNodeName(String),
    /// A property name is empty or contains non-printable or non-ASCII bytes.
    InvalidPropertyName(String),
    /// A string given for a string or string-list property contains a NUL byte.
    NulInString,
    /// The first node must be the root, whose name is the empty string.
    RootNodeNotFirst,
    /// A second top-level node was begun after the root node was closed.
    SecondRootNode,
    /// `finish` was called before any node was written.
    MissingRootNode,
    /// Nodes are nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    TooDeep,
    /// The blob, or one of its blocks or properties, would exceed 4 GiB.
    TooLarge,
    /// A `/memreserve/` entry has size zero or wraps past the end of the address space.
    /// (An all-zero entry would end the list early.)
    InvalidMemReserve {
        /// First byte of the reserved range.
        address: u64,
        /// Length of the range in bytes.
        size: u64,
    },
    /// A path does not start with `/`, has an empty component (`//` or a trailing `/`),
    /// or is deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    InvalidPath(String),
    /// No node exists at this path.
    NodeNotFound(String),
    /// A node already exists at this path.
    NodeExists(String),
    /// The root node cannot be removed or added.
    RootNode,
    /// Every phandle value is taken (the largest in use is `0xffff_fffe`; `0xffff_ffff`
    /// is reserved).
    PhandlesExhausted,
    /// The input blob is not a well-formed DTB.
    InvalidBlob(BlobError),
}

/// What is wrong with an input blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobError {
    /// The blob is shorter than its header or than the header's `totalsize`.
    Truncated,
    /// The first word is not `0xd00dfeed`.
    BadMagic(u32),
    /// The blob's format is older than version 16 or needs a reader newer than version 17.
    UnsupportedVersion {
        /// The header's `version`.
        version: u32,
        /// The header's `last_comp_version`.
        last_comp_version: u32,
    },
    /// A block lies outside the blob, or the reservation block is not 8-byte aligned.
    BlockOutOfBounds,
    /// The reservation block has no terminating all-zero entry.
    UnterminatedMemReserve,
    /// An unknown or misplaced token was found at this offset of the structure block.
    UnexpectedToken {
        /// Offset from the start of the structure block.
        offset: usize,
        /// The token found there.
        token: u32,
    },
    /// A node name runs past the end of the structure block or is not UTF-8.
    BadNodeName,
    /// A property's value runs past the end of the structure block.
    BadPropertyValue,
    /// A property's name offset lies outside the strings block, or the name is not
    /// NUL-terminated UTF-8.
    BadPropertyName,
    /// The structure block ends before the root node is closed or before `FDT_END`.
    UnexpectedEnd,
}

impl From<BlobError> for Error {
    fn from(error: BlobError) -> Self {
        Error::InvalidBlob(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EndNodeWithoutBeginNode => write!(f, "end_node without an open node"),
            Error::UnclosedNodes(count) => write!(f, "{count} node(s) still open at finish"),
            Error::PropertyOutsideNode => write!(f, "property outside of any node"),
            Error::PropertyAfterChildNode(name) => {
                write!(f, "property {name:?} written after a child node")
            }
            Error::DuplicateProperty(name) => write!(f, "duplicate property {name:?}"),
            Error::DuplicateNode(name) => write!(f, "duplicate node {name:?}"),
            Error::InvalidNodeName(name) => write!(f, "invalid node name {name:?}"),
            Error::InvalidPropertyName(name) => write!(f, "invalid property name {name:?}"),
            Error::NulInString => write!(f, "string value contains a NUL byte"),
            Error::RootNodeNotFirst => write!(f, "the first node must be the unnamed root"),
            Error::SecondRootNode => write!(f, "a second root node was begun"),
            Error::MissingRootNode => write!(f, "no root node was written"),
            Error::TooDeep => write!(f, "nodes nested deeper than {}", crate::MAX_DEPTH),
            Error::TooLarge => write!(f, "device tree larger than 4 GiB"),
            Error::InvalidMemReserve { address, size } => {
                write!(f, "invalid memreserve entry {address:#x}+{size:#x}")
            }
            Error::InvalidPath(path) => write!(f, "invalid path {path:?}"),
            Error::NodeNotFound(path) => write!(f, "no node at {path:?}"),
            Error::NodeExists(path) => write!(f, "node {path:?} already exists"),
            Error::RootNode => write!(f, "the root node cannot be added or removed"),
            Error::PhandlesExhausted => write!(f, "no phandle value left"),
            Error::InvalidBlob(error) => write!(f, "invalid DTB: {error}"),
        }
    }
}

impl core::error::Error for Error {}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobError::Truncated => write!(f, "truncated"),
            BlobError::BadMagic(magic) => write!(f, "bad magic {magic:#010x}"),
            BlobError::UnsupportedVersion {
                version,
                last_comp_version,
            } => {
                write!(
                    f,
                    "unsupported version {version} (compatible with {last_comp_version})"
                )
            }
            BlobError::BlockOutOfBounds => write!(f, "block outside the blob or misaligned"),
            BlobError::UnterminatedMemReserve => write!(f, "memreserve list not terminated"),
            BlobError::UnexpectedToken { offset, token } => {
                write!(
                    f,
                    "unexpected token {token:#x} at structure offset {offset:#x}"
                )
            }
            BlobError::BadNodeName => write!(f, "malformed node name"),
            BlobError::BadPropertyValue => write!(f, "property value past the block end"),
            BlobError::BadPropertyName => write!(f, "malformed property name offset"),
            BlobError::UnexpectedEnd => write!(f, "structure block ends too early"),
        }
    }
}

impl core::error::Error for BlobError {}
