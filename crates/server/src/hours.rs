//! Business hours: when the merchant's people answer. Outside them the widget offers to leave a
//! message rather than a queue nobody will reach.
//!
//! Written as days, a time range and a fixed UTC offset, e.g. `Mon-Fri 09:00-17:00 +01:00`
//! (days `Mon`…`Sun`, a range like `Mon-Fri` or a list like `Mon,Wed,Sat`). The offset is fixed:
//! a merchant on daylight-saving time updates it twice a year.

use std::fmt;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    /// Monday first.
    days: [bool; 7],
    open_minute: u16,
    close_minute: u16,
    offset_minutes: i16,
}

/// Why a business-hours text was refused, with the expected form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHours(String);

impl fmt::Display for InvalidHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; write days, hours and UTC offset, e.g. \"Mon-Fri 09:00-17:00 +01:00\"", self.0)
    }
}

impl std::error::Error for InvalidHours {}

fn day(name: &str) -> Result<usize, InvalidHours> {
    DAYS.iter()
        .position(|d| d.eq_ignore_ascii_case(name))
        .ok_or_else(|| InvalidHours(format!("unknown day {name:?}")))
}

fn minute_of_day(text: &str) -> Result<u16, InvalidHours> {
    let bad = || InvalidHours(format!("unreadable time {text:?}"));
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    let (hours, minutes): (u16, u16) =
        (hours.parse().map_err(|_| bad())?, minutes.parse().map_err(|_| bad())?);
    if hours > 24 || minutes > 59 || (hours == 24 && minutes > 0) {
        return Err(bad());
    }
    Ok(hours * 60 + minutes)
}

impl BusinessHours {
    pub fn parse(text: &str) -> Result<Self, InvalidHours> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [days_text, times, offset] = parts[..] else {
            return Err(InvalidHours(format!("{text:?} is not three parts")));
        };
        let mut days = [false; 7];
        for item in days_text.split(',') {
            match item.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (day(from)?, day(to)?);
                    let mut d = from;
                    loop {
                        days[d] = true;
                        if d == to {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => days[day(item)?] = true,
            }
        }
        let (open, close) =
            times.split_once('-').ok_or_else(|| InvalidHours(format!("unreadable hours {times:?}")))?;
        let (open_minute, close_minute) = (minute_of_day(open)?, minute_of_day(close)?);
        if open_minute >= close_minute {
            return Err(InvalidHours(format!("{times:?} closes before it opens")));
        }
        let bad_offset = || InvalidHours(format!("unreadable UTC offset {offset:?}"));
        let sign = match offset.chars().next() {
            Some('+') => 1,
            Some('-') => -1,
            _ => return Err(bad_offset()),
        };
        let offset_minutes = i16::try_from(minute_of_day(&offset[1..]).map_err(|_| bad_offset())?)
            .map_err(|_| bad_offset())?
            * sign;
        if offset_minutes.abs() > 14 * 60 {
            return Err(bad_offset());
        }
        Ok(Self { days, open_minute, close_minute, offset_minutes })
    }

    /// Whether people answer at `unix_ms` (milliseconds since 1970-01-01 UTC).
    pub fn is_open(&self, unix_ms: i64) -> bool {
        let local_minutes = unix_ms.div_euclid(60_000) + i64::from(self.offset_minutes);
        let minute = local_minutes.rem_euclid(24 * 60);
        // 1970-01-01 was a Thursday (index 3 from Monday).
        let weekday = (local_minutes.div_euclid(24 * 60) + 3).rem_euclid(7);
        let open_day = usize::try_from(weekday).is_ok_and(|d| self.days[d]);
        open_day && minute >= i64::from(self.open_minute) && minute < i64::from(self.close_minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23 (a Monday) at `hh:mm` UTC, in milliseconds.
    fn monday_utc(hours: i64, minutes: i64) -> i64 {
        (1_795_392_000 + hours * 3600 + minutes * 60) * 1000
    }

    #[test]
    fn open_inside_the_hours_on_the_days_only() {
        let hours = BusinessHours::parse("Mon-Fri 09:00-17:00 +01:00").expect("valid");
        assert!(!hours.is_open(monday_utc(7, 59)), "08:59 local");
        assert!(hours.is_open(monday_utc(8, 0)), "09:00 local");
        assert!(hours.is_open(monday_utc(15, 59)), "16:59 local");
        assert!(!hours.is_open(monday_utc(16, 0)), "17:00 local");
        let sunday_noon = monday_utc(12, 0) - 24 * 3600 * 1000;
        assert!(!hours.is_open(sunday_noon));
        let weekend = BusinessHours::parse("sat,Sun 10:00-14:00 -05:00").expect("valid");
        assert!(weekend.is_open(sunday_noon + 3 * 3600 * 1000), "12:00 in UTC-5 on Sunday");
        assert!(!weekend.is_open(monday_utc(16, 0)));
    }

    #[test]
    fn unreadable_hours_say_what_is_wrong_and_how_to_write_them() {
        for bad in [
            "",
            "Mon-Fri 09:00-17:00",
            "Mon-Fry 09:00-17:00 +01:00",
            "Mon 17:00-09:00 +00:00",
            "Mon 09:00-17:00 CET",
            "Mon 9-17 +01:00",
        ] {
            let error = BusinessHours::parse(bad).expect_err(bad).to_string();
            assert!(error.contains("Mon-Fri 09:00-17:00 +01:00"), "{bad}: {error}");
        }
    }
}
