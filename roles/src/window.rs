//! Maintenance windows: `window: "Tue 02:00-04:00 UTC"` on a play.
//!
//! A window is a set of weekdays, a start and an end time of day, and a time zone. A window whose end
//! is not after its start runs past midnight into the next day, and belongs to the day it starts on:
//! `Sat 23:00-01:00` is open on Saturday night until one o'clock on Sunday.

use std::fmt;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ZonedDateTime};

const DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// One maintenance window, as written and as understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// The text the operator wrote, for messages.
    pub text: String,
    /// The days a window opens on; all seven for `daily` or no days.
    days: Vec<Weekday>,
    start: Time,
    /// `None` for 24:00, the end of the day.
    end: Option<Time>,
    zone: TimeZone,
}

impl Window {
    /// Parses `[DAYS] HH:MM-HH:MM [ZONE]`. DAYS is `daily`, a day (`Tue`), a range (`Mon-Fri`) or a
    /// comma list of those; ZONE is `UTC` (the default), an offset such as `+02:00`, or a name from the
    /// time zone database such as `Europe/Zurich`.
    pub fn parse(text: &str) -> Result<Window, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let times = words
            .iter()
            .position(|w| w.contains(':') && w.contains('-'));
        let Some(t) = times else {
            return Err(format!(
                "`{text}` has no time range; expected a window such as `Tue 02:00-04:00 UTC` or `daily 22:00-02:00 Europe/Zurich`"
            ));
        };
        if t > 1 || words.len() > t + 2 {
            return Err(format!(
                "`{text}` is not a window; expected `[DAYS] HH:MM-HH:MM [ZONE]`, such as `Mon-Fri 02:00-04:00 UTC`"
            ));
        }
        let days = match t {
            0 => DAYS.to_vec(),
            _ => parse_days(words[0])?,
        };
        let (start, end) = words[t]
            .split_once('-')
            .ok_or_else(|| format!("`{}` is not a time range", words[t]))?;
        let start = parse_time(start)?.ok_or_else(|| {
            format!("`{start}`: a window cannot start at 24:00; write 00:00 on the next day")
        })?;
        let end = parse_time(end)?;
        if end == Some(start) {
            return Err(format!(
                "`{}` is empty: it starts and ends at the same time",
                words[t]
            ));
        }
        let zone = match words.get(t + 1) {
            None => TimeZone::UTC,
            Some(z) => parse_zone(z)?,
        };
        Ok(Window {
            text: text.to_string(),
            days,
            start,
            end,
            zone,
        })
    }

    /// Whether the window is open at `now`.
    pub fn contains(&self, now: Timestamp) -> bool {
        let local = now.to_zoned_datetime(self.zone.clone());
        let (day, time) = (local.weekday(), local.time());
        let on = |d: Weekday| self.days.contains(&d);
        match self.end {
            None => on(day) && time >= self.start,
            Some(end) if end > self.start => on(day) && time >= self.start && time < end,
            Some(end) => (on(day) && time >= self.start) || (on(day.previous()) && time < end),
        }
    }

    /// When the window next opens after `now` (within the coming week).
    pub fn next_opening(&self, now: Timestamp) -> Option<ZonedDateTime> {
        let local = now.to_zoned_datetime(self.zone.clone());
        (0..8).find_map(|d| {
            let date = local.date().checked_add(Span::new().days(d)).ok()?;
            if !self.days.contains(&date.weekday()) {
                return None;
            }
            let opening = date
                .to_datetime(self.start)
                .to_zoned_datetime(self.zone.clone())
                .ok()?;
            (opening.timestamp() > now).then_some(opening)
        })
    }

    /// Why the window refuses a start at `now`, or `None` when it is open.
    pub fn refusal(&self, now: Timestamp) -> Option<String> {
        if self.contains(now) {
            return None;
        }
        let local = now.to_zoned_datetime(self.zone.clone());
        let mut msg = format!(
            "outside the maintenance window `{}` (it is {} there)",
            self.text,
            local.strftime("%a %H:%M")
        );
        if let Some(next) = self.next_opening(now) {
            let wait = next.timestamp().as_second() - now.as_second();
            msg.push_str(&format!(
                "; it opens {} (in {}h{:02}m)",
                next.strftime("%a %Y-%m-%d %H:%M %Z"),
                wait / 3600,
                wait % 3600 / 60
            ));
        }
        Some(msg)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    if text.eq_ignore_ascii_case("daily") {
        return Ok(DAYS.to_vec());
    }
    let mut days = Vec::new();
    for part in text.split(',') {
        let (from, to) = part.split_once('-').unwrap_or((part, part));
        let (a, b) = (day_index(from)?, day_index(to)?);
        let mut i = a;
        loop {
            days.push(DAYS[i]);
            if i == b {
                break;
            }
            i = (i + 1) % 7;
        }
    }
    Ok(days)
}

fn day_index(text: &str) -> Result<usize, String> {
    const NAMES: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lower = text.to_ascii_lowercase();
    NAMES
        .iter()
        .position(|name| lower.len() >= 3 && name.starts_with(&lower))
        .ok_or_else(|| {
            format!("`{text}` is not a day; expected Mon, Tue, Wed, Thu, Fri, Sat, Sun, a range such as Mon-Fri, or daily")
        })
}

/// `HH:MM`; `None` for `24:00`.
fn parse_time(text: &str) -> Result<Option<Time>, String> {
    let bad = || format!("`{text}` is not a time of day; expected HH:MM, such as 02:00");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if (h, m) == (24, 0) {
        return Ok(None);
    }
    Time::new(h, m, 0, 0).map(Some).map_err(|_| bad())
}

fn parse_zone(text: &str) -> Result<TimeZone, String> {
    if text.eq_ignore_ascii_case("utc") || text.eq_ignore_ascii_case("z") {
        return Ok(TimeZone::UTC);
    }
    if let Some(sign) = text
        .strip_prefix('+')
        .map(|r| (1, r))
        .or_else(|| text.strip_prefix('-').map(|r| (-1, r)))
    {
        let (s, rest) = sign;
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        if let (Ok(h), Ok(m)) = (h.parse::<i32>(), m.parse::<i32>())
            && let Ok(offset) = jiff::tz::Offset::from_seconds(s * (h * 3600 + m * 60))
        {
            return Ok(TimeZone::fixed(offset));
        }
    }
    TimeZone::get(text).map_err(|_| {
        format!("`{text}` is not a time zone; expected UTC, an offset such as +02:00, or a name such as Europe/Zurich")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_day_window_is_open_only_inside_it() {
        let w = Window::parse("Tue 02:00-04:00 UTC").unwrap();
        // 2026-11-24 is a Tuesday.
        assert!(w.contains(at("2026-11-24T02:00:00Z")));
        assert!(w.contains(at("2026-11-24T03:59:59Z")));
        assert!(!w.contains(at("2026-11-24T04:00:00Z")));
        assert!(!w.contains(at("2026-11-24T01:59:59Z")));
        assert!(!w.contains(at("2026-11-23T03:00:00Z")));
        let refusal = w.refusal(at("2026-11-23T22:51:00Z")).unwrap();
        assert!(refusal.contains("it is Mon 22:51 there"), "{refusal}");
        assert!(
            refusal.contains("opens Tue 2026-11-24 02:00 UTC (in 3h09m)"),
            "{refusal}"
        );
    }

    #[test]
    fn a_window_past_midnight_belongs_to_the_day_it_starts() {
        let w = Window::parse("Sat 23:00-01:00").unwrap();
        // 2026-11-28 is a Saturday.
        assert!(w.contains(at("2026-11-28T23:30:00Z")));
        assert!(w.contains(at("2026-11-29T00:30:00Z")));
        assert!(!w.contains(at("2026-11-29T23:30:00Z")));
        assert!(!w.contains(at("2026-11-28T00:30:00Z")));
    }

    #[test]
    fn days_ranges_lists_zones_and_24_00() {
        let w = Window::parse("Fri-Mon,Wed 22:00-24:00 +02:00").unwrap();
        // 20:30 UTC on Wednesday 2026-11-25 is 22:30 at +02:00.
        assert!(w.contains(at("2026-11-25T20:30:00Z")));
        assert!(!w.contains(at("2026-11-26T20:30:00Z")));
        assert!(w.contains(at("2026-11-30T21:59:00Z")));
        let daily = Window::parse("06:00-07:00 Europe/Zurich").unwrap();
        // Zurich is UTC+1 in November.
        assert!(daily.contains(at("2026-11-25T05:30:00Z")));
        assert!(!daily.contains(at("2026-11-25T06:30:00Z")));
    }

    #[test]
    fn bad_windows_say_what_was_expected() {
        for (text, expected) in [
            ("Tue", "has no time range"),
            ("Tue 02:00-04:00 UTC extra", "is not a window"),
            ("Tus 02:00-04:00", "`Tus` is not a day"),
            ("Tue 2:00-25:00", "`25:00` is not a time of day"),
            ("Tue 02:00-02:00", "is empty"),
            (
                "Tue 02:00-04:00 Mars/Base",
                "`Mars/Base` is not a time zone",
            ),
        ] {
            let err = Window::parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
