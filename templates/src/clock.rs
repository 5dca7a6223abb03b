//! Ansible's clock: the `now()` function and the `strftime` and `to_datetime` filters, for templates
//! that stamp files or compute times such as an alert silence's end or a certificate's age.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, Value};

use crate::datetime::{self, DateTime};

/// Registers `now`, `strftime` and `to_datetime` on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_function("now", now);
    ansible_builtin!(env, add_filter, "strftime", strftime);
    ansible_builtin!(env, add_filter, "to_datetime", datetime::to_datetime);
}

fn zone(utc: bool) -> TimeZone {
    if utc {
        TimeZone::UTC
    } else {
        TimeZone::system()
    }
}

fn format(fmt: &str, time: &ZonedDateTime) -> Result<String, Error> {
    jiff::fmt::strtime::format(fmt, time).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("strftime: cannot format with `{fmt}`: {e}"),
        )
    })
}

/// `now(utc=False, fmt=None)`: the current time as a datetime, or a string formatted as `fmt` says.
fn now(kwargs: Kwargs) -> Result<Value, Error> {
    let utc = kwargs.get::<Option<bool>>("utc")?.unwrap_or(false);
    let fmt: Option<String> = kwargs.get("fmt")?;
    kwargs.assert_all_used()?;
    match fmt {
        Some(fmt) => format(&fmt, &Timestamp::now().to_zoned_datetime(zone(utc))).map(Value::from),
        None => Ok(Value::from_object(DateTime::now(utc))),
    }
}

/// `FORMAT | strftime(second=None, utc=False)`: the time `second` (seconds since the epoch, now when
/// not given) formatted with `FORMAT`.
fn strftime(fmt: String, second: Option<f64>, kwargs: Kwargs) -> Result<String, Error> {
    let second = match second {
        Some(s) => Some(s),
        None => kwargs.get("second")?,
    };
    let utc: Option<bool> = kwargs.get("utc")?;
    kwargs.assert_all_used()?;
    let at = match second {
        None => Timestamp::now(),
        Some(s) => {
            Timestamp::from_duration(jiff::SignedDuration::from_secs_f64(s)).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("strftime: {s} seconds is out of range: {e}"),
                )
            })?
        }
    };
    format(&fmt, &at.to_zoned_datetime(zone(utc.unwrap_or(false))))
}

#[cfg(test)]
mod tests {
    use crate::Engine;
    use crate::test_render as render;

    #[test]
    fn strftime_formats_a_given_second_in_utc() {
        assert_eq!(
            render("{{ '%Y-%m-%dT%H:%M:%SZ' | strftime(1767142800 + 7200, utc=true) }}"),
            "2025-12-31T03:00:00Z"
        );
        assert_eq!(
            render("{{ '%Y-%m-%d' | strftime(second=0, utc=true) }}"),
            "1970-01-01"
        );
    }

    #[test]
    fn now_with_fmt_is_the_current_epoch_second() {
        let then = jiff::Timestamp::now().as_second();
        let got: i64 = render("{{ now(utc=true, fmt='%s') }}").parse().unwrap();
        assert!((then..then + 5).contains(&got), "{got} vs {then}");
        let py = render("{{ now(utc=true) }}");
        assert_eq!(py.len(), "2026-11-23 01:02:03.456789".len(), "{py}");
    }

    #[test]
    fn a_bad_format_is_an_error_not_a_panic() {
        let err = Engine::new()
            .render_str("t", "{{ '%!' | strftime(0) }}", &Default::default())
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("strftime: cannot format with `%!`"),
            "{err}"
        );
    }
}
