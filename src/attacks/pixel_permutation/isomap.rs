//! The previous method, kept as the baseline the layout search is scored beside: Isomap of the correlation
//! graph, snapped to the grid.

use super::*;

/// The previous method: Isomap (geodesic distances in the graph of each pixel's 4 most correlated partners,
/// edges weighted by -ln(correlation), classical MDS to the plane), snapped to the grid by optimal
/// assignment under the best rotation.
pub(super) fn isomap_layout(st: &Stats) -> Result<Vec<usize>> {
    let (m, side, corr) = (st.live.len(), st.side, &st.corr);
    let top: Vec<Vec<usize>> = (0..m)
        .map(|a| {
            let mut idx: Vec<usize> = (0..m).filter(|&b| b != a).collect();
            idx.sort_by(|&p, &q| corr[(a, q)].total_cmp(&corr[(a, p)]));
            idx.truncate(4);
            idx
        })
        .collect();
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); m];
    for (a, top_a) in top.iter().enumerate() {
        for &b in top_a {
            let w = -corr[(a, b)].clamp(1e-6, 1.0).ln(); // >= 0, so Dijkstra applies
            if !adj[a].iter().any(|&(v, _)| v == b) {
                adj[a].push((b, w));
                adj[b].push((a, w));
            }
        }
    }
    let mut d2 = Array2::<f64>::from_elem((m, m), f64::NAN);
    let mut far = 0.0f64;
    for src in 0..m {
        let dist = dijkstra(&adj, src);
        for (t, &d) in dist.iter().enumerate() {
            if d.is_finite() {
                d2[(src, t)] = d * d;
                far = far.max(d);
            }
        }
    }
    // Pixels out of reach sit one diameter beyond.
    d2.mapv_inplace(|v| if v.is_nan() { (far * 1.1).powi(2) } else { v });
    let row_mean: Vec<f64> = (0..m).map(|a| d2.row(a).mean().unwrap_or(0.0)).collect();
    let all_mean = row_mean.iter().sum::<f64>() / m.max(1) as f64;
    let bmat = Array2::from_shape_fn((m, m), |(a, b)| -0.5 * (d2[(a, b)] - row_mean[a] - row_mean[b] + all_mean));
    let (vals, vecs) = sym_eigen(bmat.view())?;
    let mut pts: Vec<(f64, f64)> =
        (0..m).map(|a| (vecs[(a, 0)] * vals[0].max(0.0).sqrt(), vecs[(a, 1)] * vals[1].max(0.0).sqrt())).collect();
    // Scale: m pixels cover about a disc of area m, whose rms radius is sqrt(m / (2 pi)).
    let (cx, cy) = (pts.iter().map(|p| p.0).sum::<f64>() / m as f64, pts.iter().map(|p| p.1).sum::<f64>() / m as f64);
    let rms = (pts.iter().map(|p| (p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sum::<f64>() / m as f64).sqrt().max(1e-12);
    let k = (m as f64 / (2.0 * std::f64::consts::PI)).sqrt() / rms;
    pts.iter_mut().for_each(|p| *p = ((p.0 - cx) * k, (p.1 - cy) * k));
    let half = (side as f64 - 1.0) / 2.0;
    let mut best_assign = (f64::INFINITY, vec![0usize; m]);
    for deg in (0..90).step_by(5) {
        let (c, s) = ((deg as f64).to_radians().cos(), (deg as f64).to_radians().sin());
        let cost = Array2::from_shape_fn((m, side * side), |(a, cell)| {
            let (x, y) = (c * pts[a].0 - s * pts[a].1, s * pts[a].0 + c * pts[a].1);
            (x - ((cell % side) as f64 - half)).powi(2) + (y - ((cell / side) as f64 - half)).powi(2)
        });
        let assign = crate::attacks::linking::hungarian(&cost);
        let total: f64 = assign.iter().enumerate().map(|(a, &cell)| cost[(a, cell)]).sum();
        if total < best_assign.0 {
            best_assign = (total, assign);
        }
    }
    Ok(best_assign.1)
}

/// Shortest path lengths from `src` (Dijkstra; edges with non-negative weights).
fn dijkstra(adj: &[Vec<(usize, f64)>], src: usize) -> Vec<f64> {
    use std::cmp::Ordering;
    #[derive(PartialEq)]
    struct Item(f64, usize);
    impl Eq for Item {}
    impl PartialOrd for Item {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Item {
        fn cmp(&self, o: &Self) -> Ordering {
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    let mut dist = vec![f64::INFINITY; adj.len()];
    let mut heap = std::collections::BinaryHeap::new();
    dist[src] = 0.0;
    heap.push(Item(0.0, src));
    while let Some(Item(d, u)) = heap.pop() {
        if d > dist[u] {
            continue;
        }
        for &(v, w) in &adj[u] {
            let nd = d + w;
            if nd < dist[v] {
                dist[v] = nd;
                heap.push(Item(nd, v));
            }
        }
    }
    dist
}
