//! A fleet of processes sharing one Polyv budget: the `fleet_worker` binary that is one of
//! them, and what the fleet test needs around it (real Redis servers, the workers' reports).

/// What one worker did, from the line it prints last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls the server refused with `qps exceeds number of calls`.
    pub refused: u64,
    /// Calls the client's limiter gave up on before the deadline.
    pub throttled: u64,
    /// Calls that failed otherwise.
    pub errors: u64,
    /// How long the worker called, in milliseconds.
    pub ms: u64,
}

/// The prefix of the report line.
pub const REPORT: &str = "fleet-worker report:";

impl Report {
    /// The report line.
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "{REPORT} ok={} refused={} throttled={} errors={} ms={}",
            self.ok, self.refused, self.throttled, self.errors, self.ms
        )
    }

    /// Reads the report line out of a worker's output.
    #[must_use]
    pub fn find(output: &str) -> Option<Self> {
        let line = output.lines().rev().find(|l| l.starts_with(REPORT))?;
        let mut report = Self::default();
        for field in line[REPORT.len()..].split_whitespace() {
            let (name, value) = field.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match name {
                "ok" => report.ok = value,
                "refused" => report.refused = value,
                "throttled" => report.throttled = value,
                "errors" => report.errors = value,
                "ms" => report.ms = value,
                _ => return None,
            }
        }
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_read_back() {
        let report = Report {
            ok: 1200,
            refused: 1,
            throttled: 2,
            errors: 3,
            ms: 10_500,
        };
        let output = format!("noise\n{}\n", report.line());
        assert_eq!(Report::find(&output), Some(report));
        assert_eq!(Report::find("nothing"), None);
    }
}
