//! A shaped network for the cost-model check: one network namespace per party, a veth pair per pair of
//! parties, and the kernel's `tbf` qdisc on every veth end, so that each directed link has its own
//! bandwidth, as the cost model assumes (`netem` is not available on these machines; `tbf` is).
//!
//! Party `i` owns the address `10.77.0.(i+1)` on its namespace's loopback; a host route sends each
//! peer's address down the veth to that peer. Everything is removed when the [`Mesh`] is dropped.

use crate::error::{Result, invalid};
use crate::net::Role;
use std::process::Command;

/// A set of namespaces joined pairwise by shaped links.
#[derive(Debug)]
pub struct Mesh {
    prefix: String,
    roles: Vec<Role>,
}

fn ip(args: &[&str]) -> Result<()> {
    run("ip", args)
}

fn run(cmd: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| invalid(format!("cannot run {cmd}: {e} (needs iproute2)")))?;
    if !out.status.success() {
        return Err(invalid(format!(
            "{cmd} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

impl Mesh {
    /// The namespace of `role`.
    pub fn namespace(&self, role: Role) -> String {
        format!("{}-{}", self.prefix, super::tls::role_name(role))
    }

    /// The address `role` is reached at.
    pub fn address(role: Role) -> String {
        format!("10.77.0.{}", role.index() + 1)
    }

    /// Builds the mesh for `roles` with every directed link shaped to `rate` bytes per second. Fails with
    /// the kernel's words where namespaces or qdiscs are not permitted.
    pub fn new(roles: &[Role], rate: f64) -> Result<Mesh> {
        if !rate.is_finite() || rate <= 0.0 {
            return Err(invalid(format!("shaping rate must be positive, got {rate}")));
        }
        let prefix = format!("rtas{}x{:04x}", std::process::id(), crate::rng::os_u64()? as u16);
        let mesh = Mesh { prefix, roles: roles.to_vec() };
        mesh.build(rate)?;
        Ok(mesh)
    }

    fn build(&self, rate: f64) -> Result<()> {
        for &r in &self.roles {
            let ns = self.namespace(r);
            ip(&["netns", "add", &ns])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{}/32", Self::address(r)), "dev", "lo"])?;
        }
        // tbf: the bucket holds one millisecond of traffic (at least 16 KB; larger GSO packets are split); the queue
        // is long enough never to drop, as the model's links never drop.
        let bits = format!("{}bit", (rate * 8.0).round() as u64);
        let burst = format!("{}", ((rate * 1e-3) as u64).max(16_384));
        let limit = format!("{}", ((rate * 0.5) as u64).max(1 << 20));
        for (i, &a) in self.roles.iter().enumerate() {
            for &b in &self.roles[i + 1..] {
                let (na, nb) = (self.namespace(a), self.namespace(b));
                let (va, vb) = (format!("v{}", b.index()), format!("v{}", a.index()));
                ip(&["link", "add", &va, "netns", &na, "type", "veth", "peer", "name", &vb, "netns", &nb])?;
                for (ns, dev, peer) in [(&na, &va, b), (&nb, &vb, a)] {
                    ip(&["-n", ns, "link", "set", dev, "up"])?;
                    let (src, dst) = (Self::address(if peer == b { a } else { b }), Self::address(peer));
                    ip(&["-n", ns, "route", "add", &format!("{dst}/32"), "dev", dev, "src", &src])?;
                    run(
                        "ip",
                        &[
                            "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", &bits,
                            "burst", &burst, "limit", &limit,
                        ],
                    )?;
                }
            }
        }
        Ok(())
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        for &r in &self.roles {
            // Deleting a namespace deletes its veth ends and qdiscs.
            let _ = Command::new("ip").args(["netns", "del", &self.namespace(r)]).output();
        }
    }
}

/// Whether this machine lets us make network namespaces and `tbf` qdiscs (root, iproute2, a kernel that
/// allows it); the reason when not.
pub fn available() -> std::result::Result<(), String> {
    match Mesh::new(&[Role::P0, Role::P1], 1e6) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}
