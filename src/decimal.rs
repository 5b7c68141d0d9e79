//! Reading PostgreSQL `numeric` into an exact `BigDecimal` without big-integer
//! arithmetic.
//!
//! Diesel builds each value digit group by digit group on a `BigUint` and then
//! rescales it: several allocations and multiplications per value. An observation
//! carries three numerics, and that work was the largest piece of Diesel's own code
//! in a fid lookup's client profile (`bench_read`, `perf`). Every numeric of our
//! schema has at most 9 significant digits, so its digits fit an `i128` and the
//! `BigDecimal` is made in one step. Longer values and the special ones (NaN,
//! infinities) go through Diesel's conversion, so the result is the same value with
//! the same scale either way (the tests below compare both conversions on the wire
//! encoding; the CLI's `both_noaa_files_reproduce_storm_data_csv` exports all 35,486
//! observations through this path and compares the file byte for byte).

use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Numeric;

/// A `numeric` read exactly; the model structs convert it to `BigDecimal`
/// (`#[diesel(deserialize_as = ExactDecimal)]`). Public only because derived impls
/// of public structs name it; not reachable from outside the crate.
#[derive(Debug, FromSqlRow)]
pub struct ExactDecimal(BigDecimal);

impl From<ExactDecimal> for BigDecimal {
    fn from(value: ExactDecimal) -> BigDecimal {
        value.0
    }
}

impl FromSql<Numeric, Pg> for ExactDecimal {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        match small(value.as_bytes()) {
            Some(decimal) => Ok(ExactDecimal(decimal)),
            None => BigDecimal::from_sql(value).map(ExactDecimal),
        }
    }
}

/// Digit groups (base 10000) an `i128` holds with room for the scaling below.
const MAX_GROUPS: usize = 4;
/// `10^k` for the scale changes a short value can need.
const MAX_SHIFT: i32 = 20;

/// The binary `numeric` in `bytes` (ndigits, weight, sign, dscale, then ndigits
/// base-10000 groups, all big-endian) when it is a finite value of at most
/// [`MAX_GROUPS`] groups; `None` for anything else, which the caller hands to Diesel.
fn small(bytes: &[u8]) -> Option<BigDecimal> {
    let word = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes([
            *bytes.get(2 * i)?,
            *bytes.get(2 * i + 1)?,
        ]))
    };
    let groups = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let negative = match word(2)? {
        0x0000 => false,
        0x4000 => true,
        _ => return None,
    };
    let scale = word(3)?;
    if groups > MAX_GROUPS || bytes.len() != 8 + 2 * groups {
        return None;
    }
    let mut digits: i128 = 0;
    for i in 0..groups {
        let group = word(4 + i)?;
        if group >= 10_000 {
            return None;
        }
        digits = digits * 10_000 + i128::from(group);
    }
    // value = digits * 10^(4 * (weight - groups + 1)); stored as int_val * 10^-scale.
    let shift = 4 * (weight - groups as i32 + 1) + i32::from(scale);
    // digits < 10^16, so digits * 10^MAX_SHIFT < 10^36 fits an i128.
    let magnitude = match shift {
        s if s > MAX_SHIFT => return None,
        s if s >= 0 => digits * 10i128.pow(s as u32),
        // Digits below the display scale: truncated, as `BigDecimal::with_scale` does.
        s if -s <= MAX_SHIFT => digits / 10i128.pow(-s as u32),
        _ => 0,
    };
    let int_val = if negative { -magnitude } else { magnitude };
    Some(BigDecimal::new(BigInt::from(int_val), i64::from(scale)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::pg::data_types::PgNumeric;

    /// The binary form of `numeric` as the server sends it.
    fn wire(negative: bool, weight: i16, scale: u16, groups: &[i16]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
        out.extend_from_slice(&weight.to_be_bytes());
        out.extend_from_slice(&(if negative { 0x4000u16 } else { 0 }).to_be_bytes());
        out.extend_from_slice(&scale.to_be_bytes());
        for g in groups {
            out.extend_from_slice(&g.to_be_bytes());
        }
        out
    }

    /// Diesel's conversion of the same value.
    fn diesel(negative: bool, weight: i16, scale: u16, groups: &[i16]) -> BigDecimal {
        let digits = groups.to_vec();
        let numeric = match negative {
            false => PgNumeric::Positive {
                weight,
                scale,
                digits,
            },
            true => PgNumeric::Negative {
                weight,
                scale,
                digits,
            },
        };
        BigDecimal::try_from(&numeric).expect("a finite numeric")
    }

    #[test]
    fn short_values_match_diesels_conversion_digit_for_digit_and_scale_for_scale() {
        let mut checked = 0;
        let groups_of = [
            &[][..],
            &[1],
            &[9999],
            &[25, 5000],
            &[1, 1401, 7500],
            &[179, 9999, 9900],
            &[9999, 9999, 9999, 9999],
            &[1, 0, 0, 1],
        ];
        for groups in groups_of {
            for weight in -6i16..=5 {
                for scale in [0u16, 1, 2, 4, 6, 8, 12, 16] {
                    for negative in [false, true] {
                        let ours = small(&wire(negative, weight, scale, groups));
                        let theirs = diesel(negative, weight, scale, groups);
                        if let Some(ours) = ours {
                            assert_eq!(
                                ours.as_bigint_and_exponent(),
                                theirs.as_bigint_and_exponent(),
                                "groups {groups:?} weight {weight} scale {scale} negative {negative}"
                            );
                            assert_eq!(ours.to_string(), theirs.to_string());
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} cases took the short path");
    }

    #[test]
    fn long_and_special_values_are_left_to_diesel() {
        assert!(small(&wire(false, 4, 0, &[1, 2, 3, 4, 5])).is_none());
        let mut nan = wire(false, 0, 0, &[]);
        nan[4..6].copy_from_slice(&0xC000u16.to_be_bytes());
        assert!(small(&nan).is_none());
        assert!(small(&[0, 1, 0]).is_none());
        assert!(small(&wire(false, 0, 0, &[10_000])).is_none());
        // 10^(4*30) does not fit: Diesel's arithmetic handles it.
        assert!(small(&wire(false, 30, 0, &[1])).is_none());
    }
}
