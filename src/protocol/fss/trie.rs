//! Several points walking one key's tree together: the points sorted, and where neighbours part. A spline
//! gate compares one masked value against every break of the spline, so a key's points differ by the breaks,
//! which are small next to the comparison width: they share the tree path down to the level where their top
//! bits part, and a walk that follows them as a trie computes that shared part once. Used by
//! [`super::dpf::eval_sets`]. (The DCF's walk, tried the same way, was no faster: its 47 levels part into
//! twelve paths for the last 20 or so, and its bookkeeping per node costs what the AES blocks it saves do.)

/// The points of a group of keys, each key's sorted, with where each goes in the output and the level at
/// which it parts from the next point of its key.
#[derive(Default)]
pub(super) struct Points {
    /// `(point, output index)`, sorted within each key's range.
    pub sorted: Vec<(u64, usize)>,
    /// Per point, the tree level at which it and the next point of its key part (`u32::MAX`: never, within
    /// the tree, or no next point).
    parts: Vec<u32>,
}

/// Where the points under a node of a trie walk lie in [`Points::sorted`], and where they part next: at level
/// `split`, into `lo..at` (bit 0, left) and `at..hi` (bit 1, right); `split` is `u32::MAX` if they never do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    pub lo: u32,
    pub hi: u32,
    pub split: u32,
    pub at: u32,
}

impl Points {
    pub fn clear(&mut self) {
        self.sorted.clear();
        self.parts.clear();
    }

    /// Adds one key's points `xs` (masked to `low`), whose outputs go at `at..`, on a tree of `depth` levels
    /// over `bits`-bit inputs (level `l` reads bit `bits - 1 - l`); returns the span of the key's root.
    pub fn push_key(&mut self, xs: &[u64], at: usize, low: u64, bits: u32, depth: usize) -> Span {
        let from = self.sorted.len();
        self.sorted.extend(xs.iter().enumerate().map(|(j, &x)| (x & low, at + j)));
        self.sorted[from..].sort_unstable();
        // Points i and i + 1 share the path above level bits - bitlen(x_i ^ x_i+1); at depth or below, the
        // whole tree path.
        self.parts.extend(self.sorted[from..].windows(2).map(|w| {
            let common = bits - (64 - (w[0].0 ^ w[1].0).leading_zeros());
            if (common as usize) < depth { common } else { u32::MAX }
        }));
        self.parts.push(u32::MAX);
        self.span(from as u32, self.sorted.len() as u32)
    }

    /// The span of points `lo..hi` (of one key, sharing the path so far): they part first where two
    /// neighbours part first, and sorted points under one node part at one boundary only.
    pub fn span(&self, lo: u32, hi: u32) -> Span {
        let (split, at) = (lo..hi - 1).map(|i| (self.parts[i as usize], i + 1)).min().unwrap_or((u32::MAX, 0));
        Span { lo, hi, split, at }
    }

    /// Whether the points of `s` (which share every bit above `shift`) go right at the level reading bit
    /// `shift`, when they do not part there.
    #[inline]
    pub fn right(&self, s: &Span, shift: usize) -> bool {
        (self.sorted[s.lo as usize].0 >> shift) & 1 == 1
    }

    /// The points of `s`.
    #[inline]
    pub fn of(&self, s: &Span) -> &[(u64, usize)] {
        &self.sorted[s.lo as usize..s.hi as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_part_where_their_top_bits_differ() {
        let mut p = Points::default();
        // 8-bit inputs, a tree of 5 levels: 0b1010_0000 and 0b1010_1000 part at level 4 (bit 3);
        // 0b1010_1000 and 0b1010_1001 only below the tree; 0b0000_0001 parts from the rest at level 0.
        let root = p.push_key(&[0b1010_1001, 0b1010_0000, 0b1010_1000, 0b0000_0001], 10, 0xff, 8, 5);
        assert_eq!(p.sorted.iter().map(|s| s.1).collect::<Vec<_>>(), vec![13, 11, 12, 10]);
        assert_eq!(root, Span { lo: 0, hi: 4, split: 0, at: 1 });
        assert_eq!(p.span(1, 4), Span { lo: 1, hi: 4, split: 4, at: 2 });
        assert_eq!(p.span(2, 4).split, u32::MAX);
        assert!(p.right(&p.span(1, 4), 7) && !p.right(&p.span(1, 4), 6));
        // A second key's points do not part from the first key's.
        let second = p.push_key(&[3], 0, 0xff, 8, 5);
        assert_eq!(second, Span { lo: 4, hi: 5, split: u32::MAX, at: 0 });
    }
}
