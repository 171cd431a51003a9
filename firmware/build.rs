// SPDX-License-Identifier: Apache-2.0
//! Rebuilds when the link map changes, and fixes the version string Linux will show.
fn main() {
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
