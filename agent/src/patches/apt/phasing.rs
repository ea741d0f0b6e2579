//! Ubuntu's phased updates (`Phased-Update-Percentage` in a Packages stanza) as apt 2.x
//! decides them for one machine (apt-pkg/upgrade.cc `PhasedUpgrader`, apt-pkg/policy.cc
//! `ExcludePhased`).
//!
//! apt draws a number from 0 to 100 seeded with `<source>-<source version>-<machine id>`
//! (libstdc++'s `std::seed_seq` -> `std::minstd_rand` ->
//! `std::uniform_int_distribution<unsigned>(0, 100)`); the machine is outside the rollout
//! when the draw is above the percentage. By default (`APT::Get::Phase-Policy` false)
//! the candidate stays what it is, so `apt list --upgradable` lists the update, and
//! `apt-get upgrade`/`dist-upgrade` keep it back, unless a version between the installed
//! one and the candidate comes from a `-security` suite.
//! `APT::Get::Always-Include-Phased-Updates` (default:
//! `Update-Manager::Always-Include-Phased-Updates`) includes every phased update,
//! `APT::Get::Never-Include-Phased-Updates` (default:
//! `Update-Manager::Never-Include-Phased-Updates`) excludes every one; without a machine
//! id (`APT::Machine-ID`, else `/etc/machine-id`) nothing is excluded. apt also includes
//! everything when `SOURCE_DATE_EPOCH` is set or it runs in a chroot: properties of an
//! apt invocation, not of the machine, so they are taken as unset.

use std::path::Path;

use super::config::{self, Config};

/// What the configuration says about phasing on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phasing {
    rule: Rule,
    machine_id: String,
    /// `APT::Get::Phase-Policy`: phasing lowers the candidate's priority instead of
    /// keeping the upgrade back.
    pub policy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Draw per update.
    Draw,
    /// `Always-Include-Phased-Updates`.
    Always,
    /// `Never-Include-Phased-Updates`.
    Never,
}

impl Phasing {
    /// Reads the phasing settings from `config`, and the machine id from
    /// `APT::Machine-ID` or the file apt reads (`Dir::Etc::machine-id`, else
    /// `<Dir::Etc>/../machine-id`, that is `etc/machine-id`) under `root`.
    pub fn from_config(config: &Config, root: &Path) -> Self {
        let always = config.find_b(
            "APT::Get::Always-Include-Phased-Updates",
            config.find_b("Update-Manager::Always-Include-Phased-Updates", false),
        );
        let never = config.find_b(
            "APT::Get::Never-Include-Phased-Updates",
            config.find_b("Update-Manager::Never-Include-Phased-Updates", false),
        );
        let rule = if always {
            Rule::Always
        } else if never {
            Rule::Never
        } else {
            Rule::Draw
        };
        let machine_id = match config.find("APT::Machine-ID") {
            Some(id) => id.to_owned(),
            None => {
                let mut file = config.find_file("Dir::Etc::machine-id", None);
                if file.is_empty() {
                    file = format!("{}../machine-id", config.find_dir("Dir::Etc", None));
                }
                read_first_line(&config::under(root, &file))
            }
        };
        Self {
            rule,
            machine_id,
            policy: config.find_b("APT::Get::Phase-Policy", false),
        }
    }

    /// Settings for tests and callers with their own: a machine id and apt's defaults.
    pub fn with_machine_id(machine_id: &str) -> Self {
        Self {
            rule: Rule::Draw,
            machine_id: machine_id.to_owned(),
            policy: false,
        }
    }

    /// Returns whether this machine is outside the rollout of an update of source
    /// package `source` at `source_version` phased at `percentage` (apt's
    /// `IsIgnoredPhasedUpdate`, without its `Phase-Policy` test).
    pub fn excludes(&self, source: &str, source_version: &str, percentage: u8) -> bool {
        if percentage >= 100 {
            return false;
        }
        match self.rule {
            Rule::Always => false,
            Rule::Never => true,
            Rule::Draw if self.machine_id.is_empty() => false,
            Rule::Draw => {
                draw(&format!("{source}-{source_version}-{}", self.machine_id))
                    > u32::from(percentage)
            }
        }
    }

    /// Returns whether `apt-get upgrade` keeps back a phased candidate (apt's
    /// `PhasedUpgrader::ShouldKeep`): phased, no security update between the installed
    /// version and it (`security_between`), and excluded.
    pub fn keeps_back(
        &self,
        source: &str,
        source_version: &str,
        percentage: u8,
        security_between: bool,
    ) -> bool {
        percentage < 100
            && !security_between
            && !self.policy
            && self.excludes(source, source_version, percentage)
    }
}

/// Parses a `Phased-Update-Percentage` value as apt does (`FindULL`, then a check
/// against 100 after narrowing to 32 bits): `None` when the stanza is not phased
/// (absent, unreadable, or above 100, which apt warns about and ignores).
pub fn parse_percentage(value: &str) -> Option<u8> {
    // apt copies the value into a 100-byte buffer and gives up on longer ones.
    if value.len() >= 100 {
        return None;
    }
    let s = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    // strtoull saturates on overflow and negates a leading minus.
    let n = digits[..end].parse::<u64>().unwrap_or(u64::MAX);
    let n = if negative { n.wrapping_neg() } else { n };
    // apt passes the value through an `unsigned int` before checking it.
    #[allow(clippy::cast_possible_truncation)]
    let narrowed = n as u32;
    u8::try_from(narrowed).ok().filter(|p| *p < 100)
}

/// Returns this machine's draw (0 to 100) for `seed`, as libstdc++ computes
/// `std::uniform_int_distribution<unsigned>(0, 100)(std::minstd_rand(std::seed_seq(seed)))`.
pub fn draw(seed: &str) -> u32 {
    let words = seed_seq(seed.as_bytes());
    // minstd_rand::seed(seed_seq&) takes one 32-bit word (the fourth), modulo 2^31-1.
    const M: u64 = 2_147_483_647;
    let mut x = u64::from(words[3]) % M;
    if x == 0 {
        x = 1;
    }
    // Downscaling without bias: [1, M-1] holds 101 buckets of 21262214 values each.
    const RANGE: u64 = M - 2;
    const BUCKETS: u64 = 101;
    const SCALING: u64 = RANGE / BUCKETS;
    const PAST: u64 = BUCKETS * SCALING;
    loop {
        x = x * 48_271 % M;
        let r = x - 1;
        if r < PAST {
            #[allow(clippy::cast_possible_truncation)]
            return (r / SCALING) as u32;
        }
    }
}

/// `std::seed_seq(begin, end).generate(out, out + 4)`: the C++ standard's algorithm
/// ([rand.util.seedseq]) for four 32-bit words. Each byte enters as a `char` widened to
/// 32 bits, so it is sign-extended where `char` is signed (x86) and not where it is
/// unsigned (ARM, POWER, s390x), as apt compiled for this machine does.
fn seed_seq(seed: &[u8]) -> [u32; 4] {
    #[allow(clippy::unnecessary_cast)]
    let v: Vec<u32> = seed
        .iter()
        .map(|&b| i32::from(b as std::ffi::c_char) as u32)
        .collect();
    const N: usize = 4;
    const T: usize = (N - 1) / 2;
    const P: usize = (N - T) / 2;
    const Q: usize = P + T;
    let s = v.len();
    let m = (s + 1).max(N);
    let mut b = [0x8b8b_8b8bu32; N];
    let t = |x: u32| x ^ (x >> 27);
    for k in 0..m {
        let r1 = 1_664_525u32.wrapping_mul(t(b[k % N] ^ b[(k + P) % N] ^ b[(k + N - 1) % N]));
        #[allow(clippy::cast_possible_truncation)]
        let r2 = r1.wrapping_add(if k == 0 {
            s as u32
        } else if k <= s {
            ((k % N) as u32).wrapping_add(v[k - 1])
        } else {
            (k % N) as u32
        });
        b[(k + P) % N] = b[(k + P) % N].wrapping_add(r1);
        b[(k + Q) % N] = b[(k + Q) % N].wrapping_add(r2);
        b[k % N] = r2;
    }
    for k in m..m + N {
        let sum = b[k % N]
            .wrapping_add(b[(k + P) % N])
            .wrapping_add(b[(k + N - 1) % N]);
        let r3 = 1_566_083_941u32.wrapping_mul(t(sum));
        #[allow(clippy::cast_possible_truncation)]
        let r4 = r3.wrapping_sub((k % N) as u32);
        b[(k + P) % N] ^= r3;
        b[(k + Q) % N] ^= r4;
        b[k % N] = r4;
    }
    b
}

/// The first line of a file, without its line ending, as apt's `ReadLine`; empty when
/// the file cannot be read.
fn read_first_line(path: &Path) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return String::new();
    };
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    line.trim_end_matches(['\r', '\n']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_like_apt() {
        assert_eq!(parse_percentage("10"), Some(10));
        assert_eq!(parse_percentage(" 0"), Some(0));
        assert_eq!(parse_percentage("100"), None);
        assert_eq!(parse_percentage("101"), None);
        assert_eq!(parse_percentage("50%"), Some(50));
        assert_eq!(parse_percentage("x"), None);
        assert_eq!(parse_percentage("-5"), None);
        assert_eq!(
            parse_percentage("4294967306"),
            Some(10),
            "narrowed to 32 bits"
        );
        assert_eq!(parse_percentage(&"1".repeat(120)), None);
    }

    #[test]
    fn draws_are_in_range_and_stable() {
        for i in 0..2000 {
            let d = draw(&format!("src-1.{i}-0123456789abcdef0123456789abcdef"));
            assert!(d <= 100, "{d}");
        }
        assert_eq!(draw("a"), draw("a"));
        assert_ne!(
            (0..20).map(|i| draw(&i.to_string())).collect::<Vec<_>>(),
            vec![draw("0"); 20]
        );
    }

    /// Draws computed by libstdc++ (GCC 12, x86_64) for the same seeds.
    #[test]
    fn draws_equal_libstdcxx() {
        let want = [
            48, 73, 30, 98, 29, 90, 64, 79, 68, 67, 22, 24, 36, 90, 84, 42, 34, 96, 97, 60, 86, 32,
            21, 33, 38, 91, 55, 55, 57, 67,
        ];
        for (i, want) in want.iter().enumerate() {
            let n = i + 1;
            let seed = format!("src{n}-1.{n}-0123456789abcdef0123456789abcdef");
            assert_eq!(draw(&seed), *want, "{seed}");
        }
        assert_eq!(draw("a"), 94);
        assert_eq!(draw(""), 63);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            draw("caf\u{e9}-1-x"),
            77,
            "bytes above 0x7f enter sign-extended"
        );
    }

    #[test]
    fn rules_follow_the_configuration() {
        let p = Phasing::with_machine_id("");
        assert!(
            !p.excludes("s", "1", 0),
            "no machine id: everything included"
        );
        let p = Phasing {
            rule: Rule::Never,
            ..Phasing::with_machine_id("x")
        };
        assert!(p.excludes("s", "1", 99) && !p.excludes("s", "1", 100));
        assert!(!p.keeps_back("s", "1", 99, true), "security between");
        let p = Phasing {
            rule: Rule::Always,
            ..Phasing::with_machine_id("x")
        };
        assert!(!p.excludes("s", "1", 0));
    }
}
