// SPDX-License-Identifier: Apache-2.0
//! Options from the kernel command line (`/chosen/bootargs`, QEMU's `-append`), so a
//! scenario can state what it requires without rebuilding the payload:
//!
//! * `conformance.require=xive,opal` (or `all`): an area whose OPAL tokens are absent is a
//!   failure instead of a skip;
//! * `conformance.only=xive.queue,xive.vp`: run only the cases whose name contains one of
//!   these strings;
//! * `conformance.skip=xive.irq.exhaustion`: leave out the cases whose name contains one;
//! * `conformance.fuzz=N`, `conformance.seed=S`, `conformance.fuzz-tokens=80,145,158`,
//!   `conformance.fuzz-resets=N`: the fuzz mode (areas/fuzz.rs).
//!
//! Unknown words are ignored (the line may carry other programs' arguments).

use crate::list::List;

const MAX_ITEMS: usize = 16;

#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    pub require: List<&'a str, MAX_ITEMS>,
    pub only: List<&'a str, MAX_ITEMS>,
    pub skip: List<&'a str, MAX_ITEMS>,
    /// `conformance.fuzz=N`: run N random calls across all threads after the cases.
    pub fuzz: Option<u64>,
    /// `conformance.seed=S` (decimal or 0x hex): the fuzz seed (default: the timebase).
    pub seed: Option<u64>,
    /// `conformance.fuzz-tokens=80,145,158`: the fuzzer draws only these present tokens
    /// (absent tokens are still tried, 1 call in 256); default every present one.
    pub fuzz_tokens: List<u64, MAX_ITEMS>,
    /// `conformance.fuzz-resets=N`: at most N fuzzed `OPAL_SIGNAL_SYSTEM_RESET`s reach a
    /// thread (default 32; the rest use targets that must be refused).
    pub fuzz_resets: Option<u64>,
    /// `conformance.reboot-loop=N`: the reboot torture (bench.rs): N reboots through
    /// `OPAL_CEC_REBOOT` in one QEMU run, then the slowest and the median cycle.
    pub reboot_loop: Option<u64>,
    /// Items that did not fit; reported so a long option is never half-applied silently.
    pub dropped: usize,
}

impl<'a> Options<'a> {
    pub fn parse(bootargs: &'a str) -> Self {
        let mut o = Options::default();
        for word in bootargs.split_ascii_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                continue;
            };
            match key {
                "conformance.fuzz" => o.fuzz = parse_number(value),
                "conformance.seed" => o.seed = parse_number(value),
                "conformance.fuzz-resets" => o.fuzz_resets = parse_number(value),
                "conformance.reboot-loop" => o.reboot_loop = parse_number(value),
                "conformance.fuzz-tokens" => {
                    for item in value.split(',').filter(|s| !s.is_empty()) {
                        match parse_number(item) {
                            Some(t) if o.fuzz_tokens.push(t).is_ok() => {}
                            _ => o.dropped += 1,
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let list = match key {
                "conformance.require" => &mut o.require,
                "conformance.only" => &mut o.only,
                "conformance.skip" => &mut o.skip,
                _ => continue,
            };
            for item in value.split(',').filter(|s| !s.is_empty()) {
                if list.push(item).is_err() {
                    o.dropped += 1;
                }
            }
        }
        o
    }

    /// Whether the scenario requires `area` (its absence is then a failure).
    pub fn requires(&self, area: &str) -> bool {
        self.require.iter().any(|r| *r == area || *r == "all")
    }

    /// Whether case `name` is selected by `only` and `skip`.
    pub fn selects(&self, name: &str) -> bool {
        let wanted = self.only.is_empty() || self.only.iter().any(|s| name.contains(s));
        wanted && !self.skip.iter().any(|s| name.contains(s))
    }
}

/// A decimal or `0x` hexadecimal number.
pub fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fuzz_options() {
        let o = Options::parse("conformance.fuzz=100000 conformance.seed=0x2a");
        assert_eq!((o.fuzz, o.seed), (Some(100_000), Some(42)));
        let o = Options::parse("conformance.reboot-loop=1000");
        assert_eq!(o.reboot_loop, Some(1000));
        assert_eq!(Options::parse("conformance.fuzz=x").fuzz, None);
        let o = Options::parse("conformance.fuzz-tokens=80,0x91,158,x");
        assert_eq!(o.fuzz_tokens.as_slice(), [80, 145, 158]);
        assert_eq!(o.dropped, 1);
        assert!(Options::parse("conformance.fuzz=1").fuzz_tokens.is_empty());
        assert_eq!(
            Options::parse("conformance.fuzz-resets=0").fuzz_resets,
            Some(0)
        );
    }

    #[test]
    fn parses_the_options_and_ignores_the_rest() {
        let o = Options::parse(
            "console=hvc0 conformance.require=xive conformance.only=xive.queue,xive.vp quiet",
        );
        assert!(o.requires("xive"));
        assert!(!o.requires("opal"));
        assert!(o.selects("xive.queue.info"));
        assert!(o.selects("xive.vp.info"));
        assert!(!o.selects("xive.irq.exhaustion"));
        let o = Options::parse("conformance.require=all conformance.skip=exhaustion");
        assert!(o.requires("opal"));
        assert!(o.selects("xive.queue.info"));
        assert!(!o.selects("xive.irq.exhaustion"));
        assert!(Options::parse("").selects("anything"));
    }

    #[test]
    fn reports_items_that_did_not_fit() {
        let many = format!("conformance.skip={}", vec!["x"; MAX_ITEMS + 2].join(","));
        assert_eq!(Options::parse(&many).dropped, 2);
    }
}
