// SPDX-License-Identifier: Apache-2.0
//! Gives the linker the payload's link map (the target JSON carries none, see
//! firmware/build.rs) and rebuilds when it changes.
fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    println!("cargo:rustc-link-arg-bin=opal-conformance=--script={manifest}/conformance.ld");
    println!("cargo:rerun-if-changed=conformance.ld");
}
