//! Realistic `GET …/images` bodies, generated deterministically (no `rand`):
//! `{"data": [...], "metadata": {"recordCount": N}}` as in
//! `/work/shared/api/images-v1.md`.
//!
//! Variety that matters to a decoder: uuid-like stack ids shared by a few
//! stacks, families and slugs of several lengths, `v2020…` tags, RFC 3339
//! timestamps with 3, 6 or 9 fractional digits and `Z` or numeric offsets,
//! descriptions that are absent, `null`, plain, or full of escapes
//! (`\"`, `\n`, `\\`, `\uXXXX`), all five statuses plus an unknown one.

use std::fmt::Write as _;

/// SplitMix64: small, fast and good enough to vary a test body.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const FAMILIES: &[&str] = &[
    "ubuntu",
    "centos7",
    "debian",
    "rockylinux",
    "alpine",
    "almalinux",
    "fedora",
    "windows-server-2019",
    "ubuntu-20.04-lts-minimal",
    "web-frontend",
    "api",
    "ml-inference-gpu",
];

const CUSTOMER_SLUGS: &[&str] = &["acme-prod", "edge-team", "tenant-42", "staging-eu-west"];

/// Plain descriptions, and descriptions written as JSON string *contents*
/// with escapes, so the decoder must unescape (and cannot borrow) them.
const DESCRIPTIONS: &[&str] = &[
    "Image using ubuntu",
    "Image using centos7",
    "Base image for the web tier, built nightly from the golden pipeline",
    "test 2",
    "Hardened \\\"minimal\\\" build\\nwith cloud-init enabled",
    "Path C:\\\\images\\\\base \\u2014 do not delete",
    "caf\\u00e9 \\u00e9t\\u00e9 build \\t tabbed",
    "Contains a \\\"quoted\\\" word and an emoji \\ud83d\\ude80",
];

/// status, weight (out of 100)
const STATUSES: &[(&str, u64)] = &[
    ("READY", 78),
    ("PENDING", 6),
    ("PROCESSING", 6),
    ("FAILED", 5),
    ("IMAGE_STATUS_UNKNOWN", 3),
    ("DEPRECATED", 2),
];

/// A uuid-like string from the generator.
fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// One timestamp (RFC 3339, fractional seconds) and the matching `vYYYYMMDD`.
fn timestamp(rng: &mut Rng) -> (String, String) {
    // 2020-01-01 .. ~2025-06.
    let secs = 1_577_836_800 + rng.below(170_000_000) as i64;
    let offset_minutes: i64 = match rng.below(10) {
        0 => 120,
        1 => -300,
        2 => 330,
        _ => 0,
    };
    let local = secs + offset_minutes * 60;
    let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let nanos = rng.below(1_000_000_000);
    let frac = match rng.below(4) {
        0 => format!("{:03}", nanos / 1_000_000),
        1 => format!("{nanos:09}"),
        _ => format!("{:06}", nanos / 1_000),
    };
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let m = offset_minutes.abs();
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    };
    let ts = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac}{zone}");
    (ts, format!("v{y:04}{mo:02}{d:02}"))
}

/// Writes one image object (compact JSON, the server's field order).
fn write_image(out: &mut String, rng: &mut Rng, stacks: &[String], i: usize) {
    let system = rng.below(10) < 4;
    let (slug, stack) = if system {
        ("cox-edge", &stacks[0])
    } else {
        (*rng.pick(CUSTOMER_SLUGS), rng.pick(&stacks[1..]))
    };
    let family = *rng.pick(FAMILIES);
    let (created, date_tag) = timestamp(rng);
    // Mostly the date tag; sometimes a build suffix that keeps ids distinct.
    let tag = match rng.below(3) {
        0 => format!("{date_tag}-{}", i % 1000),
        _ => date_tag,
    };
    let mut roll = rng.below(100);
    let mut status = STATUSES[0].0;
    for (name, weight) in STATUSES {
        if roll < *weight {
            status = name;
            break;
        }
        roll -= weight;
    }
    let _ = write!(
        out,
        r#"{{"stackId":"{stack}","id":"{stack}/{family}/{tag}","slug":"{slug}","family":"{family}","tag":"{tag}","createdAt":"{created}","#
    );
    match rng.below(10) {
        0 | 1 => out.push_str(r#""description":null,"#),
        2 => {} // absent
        _ => {
            let _ = write!(out, r#""description":"{}","#, rng.pick(DESCRIPTIONS));
        }
    }
    let _ = write!(
        out,
        r#""reference":"{slug}/{family}:{tag}","status":"{status}"}}"#
    );
}

/// A list body of `n` images.
pub fn list_body(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let stacks: Vec<String> = (0..6).map(|_| uuid(&mut rng)).collect();
    let mut out = String::with_capacity(n * 360 + 64);
    out.push_str(r#"{"data":["#);
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        write_image(&mut out, &mut rng, &stacks, i);
    }
    let _ = write!(out, r#"],"metadata":{{"recordCount":{n}}}}}"#);
    out.into_bytes()
}
