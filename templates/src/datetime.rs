//! Python's `datetime` and `timedelta` as template values: what `now()` and the `to_datetime` filter
//! return in Ansible. They print as Python prints them, compare with each other, have Python's
//! attributes and methods, and subtract (`end - start` is a timedelta with `.days` and
//! `.total_seconds()`; minijinja's `-` reaches objects through drover's patch, see
//! vendor/minijinja/PATCH.md).

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use jiff::civil;
use jiff::fmt::strtime::{self, BrokenDownTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use minijinja::value::{DynObject, Kwargs, Object, ObjectRepr, from_args};
use minijinja::{Error, ErrorKind, State, Value};

const MICROS_PER_DAY: i128 = 86_400_000_000;

/// A Python `datetime`: naive (no offset, as `now()` and most `to_datetime` formats give) or aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    civil: civil::DateTime,
    offset: Option<Offset>,
}

/// A Python `timedelta`, kept as Python normalises it: whole days (possibly negative), then
/// 0..86400 seconds and 0..1,000,000 microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeDelta {
    micros: i128,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

impl DateTime {
    /// The current time: local, or UTC when `utc` (naive either way, as Python's `now()` and
    /// `utcnow()`).
    pub fn now(utc: bool) -> DateTime {
        let zone = if utc {
            TimeZone::UTC
        } else {
            TimeZone::system()
        };
        DateTime {
            civil: Timestamp::now().to_zoned_datetime(zone).datetime(),
            offset: None,
        }
    }

    /// `datetime.strptime(text, format)`: fields the format leaves out are Python's defaults
    /// (1900-01-01 00:00:00).
    pub fn parse(text: &str, format: &str) -> Result<DateTime, Error> {
        let mismatch = |e: jiff::Error| {
            invalid(format!(
                "to_datetime: time data {text:?} does not match format {format:?}: {e}"
            ))
        };
        let mut tm = BrokenDownTime::parse(format, text).map_err(mismatch)?;
        let date = (tm.year(), tm.month(), tm.day());
        tm.set_year(Some(date.0.unwrap_or(1900)))
            .map_err(mismatch)?;
        tm.set_month(Some(date.1.unwrap_or(1))).map_err(mismatch)?;
        tm.set_day(Some(date.2.unwrap_or(1))).map_err(mismatch)?;
        let time = (tm.hour(), tm.minute(), tm.second());
        tm.set_hour(Some(time.0.unwrap_or(0))).map_err(mismatch)?;
        tm.set_minute(Some(time.1.unwrap_or(0))).map_err(mismatch)?;
        tm.set_second(Some(time.2.unwrap_or(0))).map_err(mismatch)?;
        Ok(DateTime {
            civil: tm.to_datetime().map_err(mismatch)?,
            offset: tm.offset(),
        })
    }

    /// The instant, for aware datetimes and naive ones read as local time (Python's `timestamp()`).
    fn timestamp(&self) -> Result<Timestamp, Error> {
        let at = match self.offset {
            Some(offset) => offset.to_timestamp(self.civil),
            None => TimeZone::system()
                .to_ambiguous_zoned_datetime(self.civil)
                .compatible()
                .map(|z| z.timestamp()),
        };
        at.map_err(|e| invalid(format!("datetime out of range: {e}")))
    }

    fn zoned(&self) -> Result<jiff::ZonedDateTime, Error> {
        let zone = TimeZone::fixed(self.offset.unwrap_or(Offset::UTC));
        self.civil
            .to_zoned_datetime(zone)
            .map_err(|e| invalid(format!("datetime out of range: {e}")))
    }

    /// `strftime(format)`; `%z` and `%Z` are empty for a naive datetime, as in Python.
    fn strftime(&self, format: &str) -> Result<String, Error> {
        let failed =
            |e: jiff::Error| invalid(format!("strftime: cannot format with `{format}`: {e}"));
        match self.offset {
            Some(_) => strtime::format(format, &self.zoned()?).map_err(failed),
            None => {
                let format = format.replace("%z", "").replace("%Z", "");
                strtime::format(&format, self.civil).map_err(failed)
            }
        }
    }

    fn isoformat(&self, sep: &str) -> String {
        let mut out = format!("{}{sep}{}", self.civil.date(), clock(self.civil.time()));
        if let Some(offset) = self.offset {
            out.push_str(&python_offset(offset));
        }
        out
    }

    /// Python's `self - other` between two datetimes: both naive or both aware.
    fn since(&self, other: &DateTime) -> Result<TimeDelta, Error> {
        let span = match (self.offset, other.offset) {
            (None, None) => self.civil.duration_since(other.civil),
            (Some(_), Some(_)) => self.timestamp()?.duration_since(other.timestamp()?),
            _ => {
                return Err(invalid(
                    "can't subtract offset-naive and offset-aware datetimes",
                ));
            }
        };
        Ok(TimeDelta::from_duration(span))
    }

    fn minus(&self, delta: &TimeDelta) -> Result<DateTime, Error> {
        let span = SignedDuration::from_micros(
            i64::try_from(delta.micros).map_err(|_| invalid("date value out of range"))?,
        );
        let civil = self
            .civil
            .checked_sub(span)
            .map_err(|_| invalid("date value out of range"))?;
        Ok(DateTime { civil, ..*self })
    }
}

/// `HH:MM:SS` and `.ffffff` when there are microseconds, as Python prints a time.
fn clock(time: civil::Time) -> String {
    let micros = time.subsec_nanosecond() / 1000;
    let mut out = format!(
        "{:02}:{:02}:{:02}",
        time.hour(),
        time.minute(),
        time.second()
    );
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    out
}

/// `+HH:MM`, with `:SS` only when there are seconds, as Python prints a UTC offset.
fn python_offset(offset: Offset) -> String {
    let total = offset.seconds();
    let sign = if total < 0 { '-' } else { '+' };
    let abs = total.unsigned_abs();
    let mut out = format!("{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60);
    if !abs.is_multiple_of(60) {
        out.push_str(&format!(":{:02}", abs % 60));
    }
    out
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.isoformat(" "))
    }
}

impl Object for DateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let c = self.civil;
        let v = match key.as_str()? {
            "year" => i64::from(c.year()),
            "month" => i64::from(c.month()),
            "day" => i64::from(c.day()),
            "hour" => i64::from(c.hour()),
            "minute" => i64::from(c.minute()),
            "second" => i64::from(c.second()),
            "microsecond" => i64::from(c.subsec_nanosecond() / 1000),
            _ => return None,
        };
        Some(Value::from(v))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "strftime" => {
                let (format,): (&str,) = from_args(args)?;
                Ok(Value::from(self.strftime(format)?))
            }
            "isoformat" => {
                let (sep, kwargs): (Option<&str>, Kwargs) = from_args(args)?;
                let sep = match sep {
                    Some(s) => s.to_string(),
                    None => kwargs.get::<Option<String>>("sep")?.unwrap_or("T".into()),
                };
                kwargs.assert_all_used()?;
                Ok(Value::from(self.isoformat(&sep)))
            }
            "timestamp" => {
                from_args::<()>(args)?;
                Ok(Value::from(self.timestamp()?.as_microsecond() as f64 / 1e6))
            }
            "weekday" | "isoweekday" => {
                from_args::<()>(args)?;
                let w = self.civil.weekday();
                Ok(Value::from(if method == "weekday" {
                    w.to_monday_zero_offset()
                } else {
                    w.to_monday_one_offset()
                }))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        let other = other.downcast_ref::<DateTime>()?;
        match (self.offset, other.offset) {
            (None, None) => Some(self.civil.cmp(&other.civil)),
            (Some(_), Some(_)) => Some(self.timestamp().ok()?.cmp(&other.timestamp().ok()?)),
            _ => None,
        }
    }

    fn custom_sub(self: &Arc<Self>, other: &Value) -> Option<Result<Value, Error>> {
        if let Some(other) = other.downcast_object_ref::<DateTime>() {
            return Some(self.since(other).map(Value::from_object));
        }
        let delta = other.downcast_object_ref::<TimeDelta>()?;
        Some(self.minus(delta).map(Value::from_object))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }
}

impl TimeDelta {
    fn from_duration(d: SignedDuration) -> TimeDelta {
        TimeDelta {
            micros: d.as_micros(),
        }
    }

    fn days(&self) -> i128 {
        self.micros.div_euclid(MICROS_PER_DAY)
    }

    fn seconds(&self) -> i128 {
        self.micros.rem_euclid(MICROS_PER_DAY) / 1_000_000
    }

    fn microseconds(&self) -> i128 {
        self.micros.rem_euclid(1_000_000)
    }
}

/// As Python prints a timedelta: `[D day[s], ]H:MM:SS[.ffffff]`.
impl fmt::Display for TimeDelta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.days();
        if days != 0 {
            let plural = if days.abs() == 1 { "" } else { "s" };
            write!(f, "{days} day{plural}, ")?;
        }
        let s = self.seconds();
        write!(f, "{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)?;
        match self.microseconds() {
            0 => Ok(()),
            us => write!(f, ".{us:06}"),
        }
    }
}

impl Object for TimeDelta {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let v = match key.as_str()? {
            "days" => self.days(),
            "seconds" => self.seconds(),
            "microseconds" => self.microseconds(),
            _ => return None,
        };
        Some(Value::from(v as i64))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => {
                from_args::<()>(args)?;
                Ok(Value::from(self.micros as f64 / 1e6))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.as_ref().cmp(other.downcast_ref::<TimeDelta>()?))
    }

    fn custom_sub(self: &Arc<Self>, other: &Value) -> Option<Result<Value, Error>> {
        let other = other.downcast_object_ref::<TimeDelta>()?;
        Some(Ok(Value::from_object(TimeDelta {
            micros: self.micros - other.micros,
        })))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_ref(), f)
    }
}

/// `STRING | to_datetime(format='%Y-%m-%d %H:%M:%S')`: Python's `datetime.strptime`.
pub fn to_datetime(text: &str, format: Option<&str>) -> Result<Value, Error> {
    let format = format.unwrap_or("%Y-%m-%d %H:%M:%S");
    Ok(Value::from_object(DateTime::parse(text, format)?))
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use crate::test_render as render;

    #[test]
    fn subtraction_gives_a_timedelta_as_python_prints_it() {
        let src = "{% set d = ('2016-08-14 20:00:12' | to_datetime) - ('2015-12-25' | to_datetime('%Y-%m-%d')) %}\
                   {{ d }}|{{ d.days }}|{{ d.seconds }}|{{ d.total_seconds() }}";
        assert_eq!(render(src), "233 days, 20:00:12|233|72012|20203212.0");
        let back = "{{ ('2015-12-25' | to_datetime('%Y-%m-%d')) - ('2015-12-26 00:00:01' | to_datetime) }}";
        assert_eq!(render(back), "-2 days, 23:59:59");
    }

    #[test]
    fn datetimes_print_compare_and_format_as_python() {
        assert_eq!(
            render("{{ '2024-02-29 13:05:00' | to_datetime }}"),
            "2024-02-29 13:05:00"
        );
        assert_eq!(
            render("{{ '12:30' | to_datetime('%H:%M') }}"),
            "1900-01-01 12:30:00"
        );
        assert_eq!(
            render(
                "{{ ('2024-01-02' | to_datetime('%Y-%m-%d')) > ('2023-12-31' | to_datetime('%Y-%m-%d')) }}"
            ),
            "True"
        );
        let dt = "{% set t = '2024-03-04T05:06:07+0200' | to_datetime('%Y-%m-%dT%H:%M:%S%z') %}";
        assert_eq!(
            render(&format!(
                "{dt}{{{{ t }}}}|{{{{ t.isoformat() }}}}|{{{{ t.timestamp() }}}}|{{{{ t.year }}}}|{{{{ t.weekday() }}}}|{{{{ t.strftime('%d/%m %z') }}}}"
            )),
            "2024-03-04 05:06:07+02:00|2024-03-04T05:06:07+02:00|1709521567.0|2024|0|04/03 +0200"
        );
    }

    #[test]
    fn what_python_refuses_is_an_error() {
        let engine = Engine::new();
        for src in [
            "{{ 'x' | to_datetime }}",
            "{{ ('2024-01-01 00:00:00+0000' | to_datetime('%Y-%m-%d %H:%M:%S%z')) - ('2024-01-01 00:00:00' | to_datetime) }}",
        ] {
            assert!(
                engine.render_str("t", src, &Default::default()).is_err(),
                "{src}"
            );
        }
    }

    #[test]
    fn a_timedelta_is_not_kept_as_a_value_as_in_ansible() {
        let engine = Engine::new();
        let vars = Default::default();
        let delta =
            "('2024-01-02' | to_datetime('%Y-%m-%d')) - ('2024-01-01' | to_datetime('%Y-%m-%d'))";
        let err = engine.eval("set_fact", delta, &vars).unwrap_err();
        assert!(err.to_string().contains("timedelta"), "{err}");
        let days = engine
            .eval("set_fact", &format!("({delta}).days"), &vars)
            .unwrap();
        assert_eq!(days, serde_json::json!(1));
        let when = engine
            .eval("set_fact", "'2024-01-02' | to_datetime('%Y-%m-%d')", &vars)
            .unwrap();
        assert_eq!(when, serde_json::json!("2024-01-02 00:00:00"));
    }

    #[test]
    fn now_is_a_datetime() {
        let year: i16 = render("{{ now().year }}").parse().unwrap();
        assert!(year >= 2024);
        assert_eq!(
            render("{{ (now() - now(utc=true)).days in [-1, 0] }}"),
            "True"
        );
        assert_eq!(
            render("{{ now().strftime('%Y') == now().year | string }}"),
            "True"
        );
    }
}
