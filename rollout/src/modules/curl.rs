//! curl's configuration, given on standard input (`curl -q -K -`), for the modules that make
//! HTTP requests where the task runs (uri, slack): URLs, headers, credentials and bodies then
//! stay out of the command line (`ps` on the host, `-vvv`), and no file holds them.

/// Separates the response (or nothing, with `-o`) from the status code in curl's output.
pub const STATUS_MARK: &str = "\n__DROVER_HTTP_STATUS__";

/// curl, its configuration on standard input, no ~/.curlrc.
pub const CURL: &str = "curl -q -sS -K -";

/// A value as a double-quoted word of curl's configuration.
pub fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One configuration line: `name = "value"`.
pub fn line(name: &str, value: &str) -> String {
    format!("{name} = {}\n", quoted(value))
}

/// The last configuration line: write the status code after the response.
pub fn write_out() -> String {
    line("write-out", &format!("{STATUS_MARK}%{{http_code}}"))
}

/// The response and the status code curl printed (0 when it made no request).
pub fn split_status(stdout: &[u8]) -> (String, u16) {
    let text = String::from_utf8_lossy(stdout);
    match text.rsplit_once(STATUS_MARK) {
        Some((body, status)) => (body.to_string(), status.trim().parse().unwrap_or(0)),
        None => (text.into_owned(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_as_curl_reads_them() {
        assert_eq!(
            line("header", "A: \"b\" \\ c\n"),
            "header = \"A: \\\"b\\\" \\\\ c\\n\"\n"
        );
        assert_eq!(
            split_status(b"{}\n__DROVER_HTTP_STATUS__201"),
            ("{}".to_string(), 201)
        );
        assert_eq!(split_status(b"nothing"), ("nothing".to_string(), 0));
    }
}
