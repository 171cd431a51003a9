// SPDX-License-Identifier: Apache-2.0
//! Gives the linker Opalite's link map, rebuilds when it changes, and fixes the version
//! string Linux will show.
fn main() {
    // The link map belongs to this binary, not to the target: the same target JSON also
    // builds the conformance payload (tests/conformance), which has its own map.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    println!("cargo:rustc-link-arg-bin=opalite=--script={manifest}/opal.ld");
    println!("cargo:rerun-if-changed=opal.ld");
    println!("cargo:rerun-if-changed=powerpc64-opal.json");
    println!("cargo:rerun-if-changed=src/arch/head.S");
    println!("cargo:rerun-if-env-changed=OPALITE_VERSION");
    let version = std::env::var("OPALITE_VERSION").unwrap_or_else(|_| {
        format!(
            "v{}",
            std::env::var("CARGO_PKG_VERSION").unwrap_or_default()
        )
    });
    println!("cargo:rustc-env=OPALITE_BUILD_VERSION={version}");
}
