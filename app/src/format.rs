//! Number formatting for the UI: stable widths, thousands separators.
//!
//! Decimals are written by [`fixed`] with integer arithmetic, never with `{:.1}`: the standard
//! library's float formatting (Grisu with a Dragon4 fallback, and their tables) would be WASM
//! every visitor of the live page downloads for a handful of figures.

/// `1234567` → `"1,234,567"`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `x` with `decimals` decimals (0 to 3), rounded half away from zero: `fixed(2.345, 2)` is
/// `"2.35"`. Not finite counts as 0; beyond what a u64 holds it saturates (no figure here does).
pub fn fixed(x: f64, decimals: u32) -> String {
    let decimals = decimals.min(3);
    let scale = 10u64.pow(decimals);
    let x = if x.is_finite() { x } else { 0.0 };
    // `as` saturates; `round` takes ties away from zero.
    let n = (x.abs() * scale as f64).round() as u64;
    let sign = if x < 0.0 && n > 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{n}")
    } else {
        format!("{sign}{}.{:0width$}", n / scale, n % scale, width = decimals as usize)
    }
}

/// A rate with a thousands separator and no decimals (`12,345`), or one decimal under 10.
pub fn rate(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return "0".into();
    }
    if x < 10.0 {
        return fixed(x, 1);
    }
    count(x.round() as u64)
}

/// A percentage with one decimal.
pub fn pct(x: f64) -> String {
    fixed(x, 1)
}

/// Microseconds as milliseconds: two decimals under 10 ms, one under 100, none above.
pub fn ms(us: f64) -> String {
    let ms = if us.is_finite() { us.max(0.0) / 1000.0 } else { 0.0 };
    match ms {
        m if m < 10.0 => fixed(m, 2),
        m if m < 100.0 => fixed(m, 1),
        m => count(m.round() as u64),
    }
}

/// A measured value with up to one decimal.
pub fn value(x: f64) -> String {
    fixed(x, 1)
}

/// Uptime as `1h 02m 03s`, `2m 03s` or `3.4s`.
pub fn uptime(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}.{}s", (ms % 1000) / 100),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m {:02}s", s / 3600, (s / 60) % 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_decimals_round_half_away_from_zero() {
        assert_eq!(fixed(2.345, 2), "2.35");
        assert_eq!(fixed(15.25, 1), "15.3");
        assert_eq!(fixed(0.04, 1), "0.0");
        assert_eq!(fixed(-0.04, 1), "0.0", "no negative zero");
        assert_eq!(fixed(-1.25, 1), "-1.3");
        assert_eq!(fixed(7.0, 2), "7.00");
        assert_eq!(fixed(1234.5, 0), "1235");
        assert_eq!(fixed(3.05, 3), "3.050");
        assert_eq!(fixed(f64::NAN, 1), "0.0");
        assert_eq!(fixed(f64::INFINITY, 0), "0");
    }

    #[test]
    fn counts_get_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn rates_and_percentages() {
        assert_eq!(rate(0.0), "0");
        assert_eq!(rate(f64::NAN), "0");
        assert_eq!(rate(2.35), "2.4");
        assert_eq!(rate(12_345.6), "12,346");
        assert_eq!(pct(12.345), "12.3");
        assert_eq!(ms(76.0), "0.08");
        assert_eq!(ms(15_250.0), "15.3");
        assert_eq!(ms(1_234_000.0), "1,234");
        assert_eq!(ms(f64::NAN), "0.00");
    }

    #[test]
    fn uptime_forms() {
        assert_eq!(uptime(3_400), "3.4s");
        assert_eq!(uptime(123_000), "2m 03s");
        assert_eq!(uptime(3_723_000), "1h 02m 03s");
    }
}
