//! Loopback ports for parties that another process starts.

use crate::error::{Result, invalid};
use std::net::TcpListener;

/// A loopback port for a party started later by another process, chosen so that nothing else takes it in
/// between: outside the kernel's ephemeral range (`ip_local_port_range`, where every outgoing connection on
/// the host gets its local port: a port probed free there can be some client's a moment later), at random,
/// never twice in one process, and free when probed. Falls back to a kernel-chosen port where the range
/// leaves no room.
pub fn free_port() -> Result<u16> {
    use std::sync::Mutex;
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let (lo, hi) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse::<u32>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999));
    // Ports below the ephemeral range from 10000, or above it, whichever is wider.
    let below = (10000u32, lo.min(65536));
    let above = (hi.saturating_add(1).max(10000), 65536u32);
    let (a, b) = if below.1.saturating_sub(below.0) >= above.1.saturating_sub(above.0) { below } else { above };
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    if b > a + 64 {
        for _ in 0..200 {
            let port = (a + (crate::rng::os_u64()? % u64::from(b - a)) as u32) as u16;
            if given.contains(&port) {
                continue;
            }
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                given.push(port);
                return Ok(port);
            }
        }
    }
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| invalid(format!("no free port: {e}")))?;
    let port = l.local_addr().map_err(|e| invalid(e.to_string()))?.port();
    given.push(port);
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::super::listen;
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_outside_the_ephemeral_range() {
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok();
        let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ports.len(), "no port given twice");
        if let Some(r) = range {
            let v: Vec<u32> = r.split_whitespace().map(|x| x.parse().unwrap()).collect();
            if v[0] > 10064 {
                assert!(ports.iter().all(|&p| u32::from(p) < v[0] || u32::from(p) > v[1]), "{ports:?} vs {r}");
            }
        }
        for p in ports {
            listen(&format!("127.0.0.1:{p}")).unwrap();
        }
    }
}
