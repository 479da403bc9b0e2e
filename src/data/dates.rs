/*!
The dates of a forecast series (`date_column`): parsed, checked for a regular step, and carried
forward past the series' end. A date is an ISO day (`1994-09-12`), a month (`1994-09`), a
quarter (`1994 Q3`, `1994-Q3`, `1994Q3`) or a year (`1994`); every row of a series is of the
same kind. Days on one day of every month (`2010-01-01`, `2010-02-01`; or every month's last
day) step by months, and forecasts carry them on the same way. The step is the series' first difference: a number of days (1 = daily, 7 = weekly),
of months (1 = monthly, 3 = quarterly) or of years; every later row must follow at that step,
so a missing or repeated date, or one out of order, is an error naming its row.

Days are counted on the proleptic Gregorian calendar (`days_from_civil`, Howard Hinnant's
algorithm): no time zones, no dependency for a few lines of arithmetic.
*/

/// One date of a series, in the unit its kind steps by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Date {
    /// A day: days since 1970-01-01.
    Day(i64),
    /// A month: months since year 0 (year * 12 + month - 1).
    Month(i64),
    /// A month written as a day on one day of every month (`2010-01-01`, `2010-02-01`, ...):
    /// months since year 0 and that day (1 to 28, or 0 for the month's last day).
    MonthDay(i64, i64),
    /// A quarter: quarters since year 0 (year * 4 + quarter - 1).
    Quarter(i64),
    /// A year.
    Year(i64),
}

/// A series' calendar: the kind of its dates, its first date and the step between rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub first: Date,
    /// Units of the date's kind between two rows (days, months, quarters or years).
    pub step: i64,
}

impl Date {
    /// Parses one date, or says what is expected.
    pub fn parse(text: &str) -> Result<Date, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "{t:?}: expected a date such as 1994-09-12, a month such as 1994-09, a quarter \
                 such as 1994 Q3, or a year such as 1994"
            )
        };
        let num = |s: &str| -> Option<i64> {
            (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse().ok())?
        };
        let upper = t.to_ascii_uppercase();
        if let Some((y, q)) = upper.split_once('Q') {
            let y = y.trim_end_matches([' ', '-']);
            return match (num(y), num(q)) {
                (Some(y), Some(q @ 1..=4)) if y.to_string().len() == 4 => {
                    Ok(Date::Quarter(y * 4 + q - 1))
                }
                _ => Err(bad()),
            };
        }
        let parts: Vec<&str> = t.split('-').collect();
        match parts.as_slice() {
            [y] if y.len() == 4 => num(y).map(Date::Year).ok_or_else(bad),
            [y, m] if y.len() == 4 && m.len() == 2 => match (num(y), num(m)) {
                (Some(y), Some(m @ 1..=12)) => Ok(Date::Month(y * 12 + m - 1)),
                _ => Err(bad()),
            },
            [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
                match (num(y), num(m), num(d)) {
                    (Some(y), Some(m @ 1..=12), Some(d)) if d >= 1 && d <= days_in(y, m) => {
                        Ok(Date::Day(days_from_civil(y, m, d)))
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    /// The date's count in its unit, and the unit's name.
    fn count(self) -> (i64, &'static str) {
        match self {
            Date::Day(n) => (n, "day"),
            Date::Month(n) | Date::MonthDay(n, _) => (n, "month"),
            Date::Quarter(n) => (n, "quarter"),
            Date::Year(n) => (n, "year"),
        }
    }

    /// The date `k` units later.
    fn plus(self, k: i64) -> Date {
        match self {
            Date::Day(n) => Date::Day(n + k),
            Date::Month(n) => Date::Month(n + k),
            Date::MonthDay(n, d) => Date::MonthDay(n + k, d),
            Date::Quarter(n) => Date::Quarter(n + k),
            Date::Year(n) => Date::Year(n + k),
        }
    }
}

impl std::fmt::Display for Date {
    /// As it is parsed: `1994-09-12`, `1994-09`, `1994 Q3`, `1994`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Date::Day(n) => {
                let (y, m, d) = civil_from_days(n);
                write!(f, "{y:04}-{m:02}-{d:02}")
            }
            Date::Month(n) => write!(f, "{:04}-{:02}", n.div_euclid(12), n.rem_euclid(12) + 1),
            Date::MonthDay(n, d) => {
                let (y, m) = (n.div_euclid(12), n.rem_euclid(12) + 1);
                let d = if d == 0 { days_in(y, m) } else { d };
                write!(f, "{y:04}-{m:02}-{d:02}")
            }
            Date::Quarter(n) => write!(f, "{:04} Q{}", n.div_euclid(4), n.rem_euclid(4) + 1),
            Date::Year(n) => write!(f, "{n:04}"),
        }
    }
}

impl Calendar {
    /// The calendar of a series' dates, each with its row's line: one kind, a positive step,
    /// every row at that step from the one before. The error names the line and what is
    /// expected there.
    pub fn of(dates: &[(usize, &str)]) -> Result<Calendar, (usize, String)> {
        let parsed: Vec<(usize, Date)> = dates
            .iter()
            .map(|&(line, t)| Date::parse(t).map(|d| (line, d)).map_err(|e| (line, e)))
            .collect::<Result<_, _>>()?;
        let parsed = as_months(parsed);
        let Some(&(_, first)) = parsed.first() else {
            return Err((0, "no dates".into()));
        };
        let (start, unit) = first.count();
        let step = match parsed.get(1) {
            None => 1,
            Some(&(line, d)) => {
                let (n, u) = d.count();
                if u != unit {
                    return Err((line, format!("a {u}: expected a {unit} like the first row")));
                }
                if n <= start {
                    return Err((line, format!("{d}: expected a date after {first}")));
                }
                n - start
            }
        };
        for (k, &(line, d)) in parsed.iter().enumerate() {
            let want = first.plus(k as i64 * step);
            if d != want {
                let (n, u) = d.count();
                let why = if let (Date::MonthDay(..), Date::Day(_)) = (first, d) {
                    format!("{d}: expected {want} (the rows before it are {step} month(s) apart, on one day of the month)")
                } else if u != unit {
                    format!("a {u}: expected a {unit} like the first row")
                } else if n < want.count().0 {
                    format!("{d}: expected {want} (dates must rise by one step of {step} {unit}(s); this one is repeated or out of order)")
                } else {
                    format!("{d}: expected {want} (a gap: the rows before it are {step} {unit}(s) apart; fill or drop it)")
                };
                return Err((line, why));
            }
        }
        Ok(Calendar { first, step })
    }

    /// The season its step implies, in rows: 12 for monthly rows (6 every two months, 4
    /// quarterly), 4 for quarters, 7 for days, 52 for weeks (365.25 / 7, rounded down); None
    /// for years and for steps with no whole number of rows a year or a week.
    pub fn season(&self) -> Option<usize> {
        let per = |cycle: i64| {
            (cycle % self.step == 0 && cycle / self.step > 1).then(|| (cycle / self.step) as usize)
        };
        match self.first {
            Date::Month(_) | Date::MonthDay(..) => per(12),
            Date::Quarter(_) => per(4),
            Date::Day(_) if self.step == 7 => Some(52),
            Date::Day(_) => per(7),
            Date::Year(_) => None,
        }
    }

    /// The date of row `t` (0-based; past the end for a forecast).
    pub fn date(&self, t: usize) -> Date {
        self.first.plus(t as i64 * self.step)
    }
}

/// Days that fall on one day of the month (the first two rows decide: the same day, 1 to 28,
/// or both the month's last day) step by months, as pandas' "MS" and "M" frequencies do:
/// such rows become `MonthDay`s, and a later row on another day is left a `Day` (an error
/// then names it).
fn as_months(parsed: Vec<(usize, Date)>) -> Vec<(usize, Date)> {
    let on = |d: Date| match d {
        Date::Day(n) => {
            let (y, m, day) = civil_from_days(n);
            let day = if day == days_in(y, m) { 0 } else { day };
            Some((y * 12 + m - 1, if day > 28 { -1 } else { day }))
        }
        _ => None,
    };
    let day = match parsed.as_slice() {
        [(_, a), (_, b), ..] => match (on(*a), on(*b)) {
            (Some((_, x)), Some((_, y))) if x == y && x >= 0 => x,
            _ => return parsed,
        },
        _ => return parsed,
    };
    parsed
        .into_iter()
        .map(|(line, d)| match on(d) {
            Some((n, x)) if x == day => (line, Date::MonthDay(n, day)),
            _ => (line, d),
        })
        .collect()
}

/// Days in month `m` of year `y`.
fn days_in(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (also the
/// bench's record dates).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_and_prints_as_written() {
        for t in ["1994-09-12", "2000-02-29", "1994-09", "1994 Q3", "1994"] {
            assert_eq!(Date::parse(t).unwrap().to_string(), t);
        }
        assert_eq!(Date::parse("1994-Q3"), Date::parse("1994 Q3"));
        assert_eq!(Date::parse("1994q3"), Date::parse("1994 Q3"));
        assert_eq!(Date::parse("1970-01-01"), Ok(Date::Day(0)));
        for bad in [
            "1994-13",
            "1999-02-29",
            "1994 Q5",
            "94-09",
            "Sep 1994",
            "",
            "1994-9",
        ] {
            let e = Date::parse(bad).unwrap_err();
            assert!(e.contains("expected a date such as"), "{bad}: {e}");
        }
    }

    #[test]
    fn days_round_trip_across_centuries() {
        for n in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(n);
            assert_eq!(days_from_civil(y, m, d), n);
        }
    }

    #[test]
    fn a_regular_series_has_its_step_and_dates_carry_on() {
        let lines = |ds: &[&'static str]| -> Vec<(usize, &'static str)> {
            ds.iter().enumerate().map(|(i, d)| (i + 2, *d)).collect()
        };
        let weekly = Calendar::of(&lines(&["2001-12-15", "2001-12-22", "2001-12-29"])).unwrap();
        assert_eq!(weekly.step, 7);
        assert_eq!(weekly.date(3).to_string(), "2002-01-05");
        let quarterly = Calendar::of(&lines(&["1994 Q3", "1994 Q4", "1995 Q1"])).unwrap();
        assert_eq!(quarterly.date(4).to_string(), "1995 Q3");
        let monthly = Calendar::of(&lines(&["1994-11", "1994-12", "1995-01"])).unwrap();
        assert_eq!(monthly.date(3).to_string(), "1995-02");
        // Days on one day of every month are months (pandas' "MS" and "M"), written as days.
        let starts = Calendar::of(&lines(&["2010-01-01", "2010-02-01", "2010-03-01"])).unwrap();
        assert_eq!((starts.step, starts.season()), (1, Some(12)));
        assert_eq!(starts.date(3).to_string(), "2010-04-01");
        let ends = Calendar::of(&lines(&["2011-12-31", "2012-01-31", "2012-02-29"])).unwrap();
        assert_eq!(ends.date(3).to_string(), "2012-03-31");
        assert_eq!(ends.date(4).to_string(), "2012-04-30");
        let quarter_days = Calendar::of(&lines(&["2010-01-15", "2010-04-15"])).unwrap();
        assert_eq!(
            (quarter_days.season(), quarter_days.date(2).to_string()),
            (Some(4), "2010-07-15".into())
        );
        // The season each step implies (season = "auto" tries it first).
        let daily = Calendar::of(&lines(&["2012-01-30", "2012-01-31", "2012-02-01"])).unwrap();
        let two_monthly = Calendar::of(&lines(&["1994-11", "1995-01"])).unwrap();
        let quarters_as_months = Calendar::of(&lines(&["1994-01", "1994-04"])).unwrap();
        let yearly = Calendar::of(&lines(&["1994", "1995"])).unwrap();
        let five_monthly = Calendar::of(&lines(&["1994-01", "1994-06"])).unwrap();
        let seasons = [
            weekly,
            quarterly,
            monthly,
            daily,
            two_monthly,
            quarters_as_months,
        ]
        .map(|c| c.season());
        assert_eq!(
            seasons,
            [Some(52), Some(4), Some(12), Some(7), Some(6), Some(4)]
        );
        assert_eq!((yearly.season(), five_monthly.season()), (None, None));
    }

    #[test]
    fn gaps_repeats_disorder_and_mixed_kinds_name_their_line() {
        let lines = |ds: &[&'static str]| -> Vec<(usize, &'static str)> {
            ds.iter().enumerate().map(|(i, d)| (i + 2, *d)).collect()
        };
        let (line, e) = Calendar::of(&lines(&["1994-01", "1994-02", "1994-04"])).unwrap_err();
        assert_eq!(line, 4);
        assert!(e.contains("expected 1994-03 (a gap"), "{e}");
        let (line, e) = Calendar::of(&lines(&["1994-01", "1994-02", "1994-02"])).unwrap_err();
        assert_eq!(line, 4);
        assert!(e.contains("repeated or out of order"), "{e}");
        let (line, e) = Calendar::of(&lines(&["1994-02", "1994-01"])).unwrap_err();
        assert_eq!(line, 3);
        assert!(e.contains("expected a date after 1994-02"), "{e}");
        let (line, e) = Calendar::of(&lines(&["1994-01", "1994 Q1"])).unwrap_err();
        assert_eq!(line, 3);
        assert!(e.contains("a quarter: expected a month"), "{e}");
        let (line, e) =
            Calendar::of(&lines(&["2010-01-01", "2010-02-01", "2010-03-02"])).unwrap_err();
        assert_eq!(line, 4);
        assert!(
            e.contains("2010-03-02: expected 2010-03-01 (the rows before it are 1 month(s) apart"),
            "{e}"
        );
        let (line, e) = Calendar::of(&lines(&["1994-01", "x"])).unwrap_err();
        assert_eq!(line, 3);
        assert!(e.contains("\"x\": expected a date"), "{e}");
    }
}
