//! The attested vaccination status.

pub(crate) mod schedule;

use crate::error::{Error, ErrorCode};
use std::fmt;

/// The answer a KYC-VS token carries: the `vs` claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum VaccinationStatus {
    /// `0`: no dose of a primary series recorded.
    NotVaccinated = 0,
    /// `1`: some but not all primary doses recorded.
    PartiallyVaccinated = 1,
    /// `2`: the primary series is complete.
    FullyVaccinated = 2,
}

impl VaccinationStatus {
    /// The wire value, `0`, `1` or `2`.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// A short English label.
    pub const fn label(self) -> &'static str {
        match self {
            VaccinationStatus::NotVaccinated => "not vaccinated",
            VaccinationStatus::PartiallyVaccinated => "partially vaccinated",
            VaccinationStatus::FullyVaccinated => "fully vaccinated",
        }
    }
}

impl TryFrom<u64> for VaccinationStatus {
    type Error = Error;

    /// Accepts exactly `0`, `1` or `2`.
    fn try_from(value: u64) -> Result<Self, Error> {
        match value {
            0 => Ok(VaccinationStatus::NotVaccinated),
            1 => Ok(VaccinationStatus::PartiallyVaccinated),
            2 => Ok(VaccinationStatus::FullyVaccinated),
            other => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("status must be 0, 1 or 2, not {other}"),
            )),
        }
    }
}

impl fmt::Display for VaccinationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_three_values_exist() {
        for v in 0..3u64 {
            assert_eq!(
                u64::from(VaccinationStatus::try_from(v).unwrap().as_u8()),
                v
            );
        }
        assert_eq!(
            VaccinationStatus::try_from(3).unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
    }
}
