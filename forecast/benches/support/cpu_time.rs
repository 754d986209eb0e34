//! CPU time of this process, for throughput figures on a shared machine: wall time
//! includes waiting for a core while other processes run, CPU time does not.

/// User plus system CPU time of this process so far, in seconds, from
/// `/proc/self/stat` (Linux; 100 clock ticks per second); `None` elsewhere.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are the 12th
    // and 13th of them.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
